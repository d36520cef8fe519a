"""Helpers of bench/linkage_synth.sh (the project's own generator, hamdeli-synth, as a linkage set).

    python3 bench/linkage_synth.py truth DIR        # DIR/truth.csv -> DIR/contract/truth_all.csv
    python3 bench/linkage_synth.py score DIR clusters.csv [--misses N]

`truth`: every row of every list but the household roster (the registry's own reference, not an
organisation's list), as source,source_id,person_id (the list's file stem is the source; a
deliberately unusable row is its own person). `score`: the pairwise precision, recall and F1 of
`clusters.csv` over the rows `hamdeli link` read (rows it rejected are left out of both sides, and
counted), one JSON line as the shared score.py prints; `--misses N` also prints N false and N
missed pairs with both rows' cells.
"""
import csv
import json
import sys
from collections import Counter, defaultdict

SKIP = set()


def truth(d):
    rows = []
    with open(f"{d}/truth.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["list"] in SKIP:
                continue
            person = r["person_key"] or f"invalid:{r['list']}:{r['source_id']}"
            rows.append((r["list"], r["source_id"], person))
    import os

    os.makedirs(f"{d}/contract", exist_ok=True)
    with open(f"{d}/contract/truth_all.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["source", "source_id", "person_id"])
        w.writerows(rows)
    print(len(rows))


def pairs(counter):
    return sum(n * (n - 1) // 2 for n in counter.values())


def score(d, clusters, misses=0):
    person = {}
    with open(f"{d}/contract/truth_all.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            person[(r["source"], r["source_id"])] = r["person_id"]
    cluster = {}
    with open(clusters, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            cluster[(r["source"], r["source_id"])] = r["cluster_id"]
    keys = [k for k in cluster if k in person]
    extra = sum(1 for k in cluster if k not in person)
    rejected = sum(1 for k in person if k not in cluster)
    by_c = Counter(cluster[k] for k in keys)
    by_p = Counter(person[k] for k in keys)
    both = Counter((cluster[k], person[k]) for k in keys)
    pp, tp_, t = pairs(by_c), pairs(by_p), pairs(both)
    p = t / pp if pp else 0.0
    r = t / tp_ if tp_ else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(json.dumps(dict(records=len(keys), precision=round(p, 4), recall=round(r, 4),
                          f1=round(f1, 4), pred_pairs=pp, true_pairs=tp_, tp=t,
                          rejected_rows=rejected, extra_rows=extra)))
    if misses:
        show(d, keys, person, cluster, misses)


def show(d, keys, person, cluster, n):
    import glob
    import os

    cells = {}
    for path in glob.glob(f"{d}/*.csv"):
        name = os.path.splitext(os.path.basename(path))[0]
        if name in ("truth", "households", "population") or name in SKIP:
            continue
        with open(path, newline="", encoding="utf-8-sig") as f:
            rd = csv.reader(f)
            next(rd, None)
            for row in rd:
                if row:
                    cells[(name, row[0])] = row[1:10]
    members_c, members_p = defaultdict(list), defaultdict(list)
    for k in keys:
        members_c[cluster[k]].append(k)
        members_p[person[k]].append(k)
    print("--- false pairs (one cluster, two people)")
    shown = 0
    for ks in members_c.values():
        for i in range(len(ks)):
            for j in range(i + 1, len(ks)):
                if person[ks[i]] != person[ks[j]] and shown < n:
                    print(ks[i], cells.get(ks[i]), "\n ", ks[j], cells.get(ks[j]))
                    shown += 1
    print("--- missed pairs (one person, two clusters)")
    shown = 0
    for ks in members_p.values():
        for i in range(len(ks)):
            for j in range(i + 1, len(ks)):
                if cluster[ks[i]] != cluster[ks[j]] and shown < n:
                    print(ks[i], cells.get(ks[i]), "\n ", ks[j], cells.get(ks[j]))
                    shown += 1


if __name__ == "__main__":
    if sys.argv[1] == "truth":
        truth(sys.argv[2])
    else:
        n = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--misses" else 0
        score(sys.argv[2], sys.argv[3], n)
