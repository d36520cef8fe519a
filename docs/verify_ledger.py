#!/usr/bin/env python3
"""Verify Hamdeli's public transparency log from its feed alone (Python 3, standard library only).

    python3 verify_ledger.py URL [--kept HASH] [--save FEED.json]
    python3 verify_ledger.py --file FEED.json [--kept HASH]

URL is a server's address (https://hamdeli.example.ir) or its feed (.../api/v1/transparency).
The feed is read oldest first, a page at a time (?after=SEQ&limit=1000), and every entry is
checked: consecutive sequence numbers from 1, each entry's prev_hash is the hash of the one
before (64 zeros for the first), each hash is recomputed by the rule in docs/transparency.md,
and the chain reaches the head hash the server published with the first page. --kept checks that
the chain still passes through a head hash you kept earlier. --save writes what was read to a
file (one JSON object: {"head": ..., "entries": [...]}) that --file verifies later, offline.

Exit status: 0 the chain verifies; 1 it is broken (the first broken entry is named); 2 the feed
could not be read.
"""

import argparse
import hashlib
import json
import sys
import urllib.parse
import urllib.request

RULE = b"hamdeli-ledger-v1\n"
GENESIS = "0" * 64
PAGE = 1000


def entry_hash(prev_hash, seq, at, kind, payload):
    """SHA-256 over the rule's tag, then each field as an 8-byte big-endian length and its UTF-8."""
    h = hashlib.sha256(RULE)
    for field in (prev_hash, str(seq), str(at), kind, payload):
        data = field.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class Broken(Exception):
    def __init__(self, seq, why):
        super().__init__(f"BROKEN at entry {seq}: {why}")
        self.seq = seq


class Chain:
    def __init__(self, head, kept=None):
        self.head = head  # {"entries": N, "hash": H} as published when reading began
        self.prev = GENESIS
        self.count = 0
        self.kept = kept
        self.kept_seen = kept is None

    def push(self, e):
        expected = self.count + 1
        try:
            seq, at, kind, payload = e["seq"], e["at"], e["kind"], e["payload"]
            prev_hash, stated = e["prev_hash"], e["hash"]
            ok_types = (
                type(seq) is int and type(at) is int and isinstance(kind, str)
                and isinstance(payload, str) and isinstance(prev_hash, str)
                and isinstance(stated, str)
            )
        except (KeyError, TypeError):
            ok_types = False
        if not ok_types:
            raise Broken(expected, "the entry is malformed")
        if seq != expected:
            raise Broken(expected, f"entry {expected} is missing (found {seq})")
        if prev_hash != self.prev:
            raise Broken(seq, f"it does not point at the hash of entry {seq - 1}")
        if entry_hash(prev_hash, seq, at, kind, payload) != stated:
            raise Broken(seq, "its hash does not match its contents")
        if seq == self.head["entries"] and stated != self.head["hash"]:
            raise Broken(seq, "its hash is not the head hash published with the log")
        if stated == self.kept:
            self.kept_seen = True
        self.prev = stated
        self.count = seq

    def finish(self):
        if self.count < self.head["entries"]:
            raise Broken(self.count + 1,
                         f"entry {self.count + 1} is missing (the head says {self.head['entries']})")
        if not self.kept_seen:
            raise Broken(self.count, f"the kept head {self.kept} is not in the chain")
        return self.count, self.prev


def feed_url(url):
    url = url.rstrip("/")
    return url if url.endswith("/api/v1/transparency") else url + "/api/v1/transparency"


def fetch(url):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def pages(url):
    """The feed's pages, oldest entries first."""
    feed = feed_url(url)
    after = 0
    while True:
        page = fetch(f"{feed}?{urllib.parse.urlencode({'after': after, 'limit': PAGE})}")
        yield page
        entries = page.get("entries") or []
        if page.get("next") is None or not entries:
            return
        after = entries[-1]["seq"]


def verify_url(url, kept, save):
    chain, saved = None, []
    for page in pages(url):
        if chain is None:
            chain = Chain(page["head"], kept)
            head = page["head"]
        for e in page.get("entries") or []:
            if save:
                saved.append(e)
            chain.push(e)
    if save:
        with open(save, "w", encoding="utf-8") as f:
            json.dump({"head": head, "entries": saved}, f, ensure_ascii=False, indent=1)
    return chain.finish()


def verify_file(path, kept):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    chain = Chain(doc["head"], kept)
    for e in doc["entries"]:
        chain.push(e)
    return chain.finish()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", nargs="?", help="the server (or its /api/v1/transparency feed)")
    ap.add_argument("--file", help="verify a saved feed instead of a server")
    ap.add_argument("--kept", help="a head hash kept earlier: the chain must pass through it")
    ap.add_argument("--save", help="write the feed read from URL to this file")
    args = ap.parse_args(argv)
    if bool(args.url) == bool(args.file):
        ap.error("give a URL or --file, not both")
    try:
        if args.file:
            n, head = verify_file(args.file, args.kept)
        else:
            n, head = verify_url(args.url, args.kept, args.save)
    except Broken as b:
        print(b, file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"cannot read the feed: {e}", file=sys.stderr)
        return 2
    print(f"ok: {n} entries, head {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
