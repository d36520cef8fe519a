#!/usr/bin/env bash
# Registry search latency (issue 3, "Figures"): p50/p99 of POST /api/v1/persons/search over
# loopback, measured with wrk against a release server, with a mix of national-code, mobile and
# name queries picked from the benchmark CSV. Run bench/import.sh first (it leaves the imported
# and linked registry in the data directory / database).
#
#   bench/search.sh [--data-dir DIR | --database-url postgres://…] [--csv FILE]
#                   [--duration 20s] [--connections 8] [--port 18080]
#
# The query travels in the JSON body (a national code or mobile never goes in a URL: the GET
# refuses them with 400). Needs wrk, curl and python3 (to write the queries' JSON bodies). Logs in as the demo admin (country
# scope), so every search runs over the whole registry.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR=
DB_URL=
CSV=/tmp/hamdeli-bench/people-1000k.csv
DURATION=20s
CONNECTIONS=8
PORT=18080
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) DATA_DIR=$2; shift 2 ;;
    --database-url) DB_URL=$2; shift 2 ;;
    --csv) CSV=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# The data directory also holds the server's secret key (PostgreSQL runs too).
if [ -z "$DATA_DIR" ]; then
  if [ -n "$DB_URL" ]; then DATA_DIR=/tmp/hamdeli-bench/postgres; else DATA_DIR=/tmp/hamdeli-bench/sqlite; fi
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -p hamdeli >&2
HAMDELI="$CARGO_TARGET_DIR/release/hamdeli"
DB_ARGS=(--data-dir "$DATA_DIR")
ENGINE=sqlite
if [ -n "$DB_URL" ]; then DB_ARGS+=(--database-url "$DB_URL"); ENGINE=postgres; fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# 3,000 queries: a third national codes, a third mobiles, a third names (first and last, or
# last only), from random rows of the file.
python3 - "$CSV" "$WORK/queries.txt" <<'PY'
import csv, json, random, sys
random.seed(1405)
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
out = []
while len(out) < 3000:
    r = random.choice(rows)
    kind = len(out) % 3
    if kind == 0 and r["national_code"].strip():
        q = r["national_code"]
    elif kind == 1 and r["phone"].strip():
        q = r["phone"]
    elif kind == 2 and r["last_name"].strip():
        q = r["last_name"] if random.random() < 0.5 else f'{r["first_name"]} {r["last_name"]}'
    else:
        continue
    out.append(json.dumps({"q": q.strip()}, ensure_ascii=False))
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY

"$HAMDELI" "${DB_ARGS[@]}" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done

# Sign in as the demo admin (CSRF: signed double submit, so keep the cookie jar).
JAR="$WORK/cookies"
CSRF=$(curl -fs -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "_csrf=$CSRF" \
  --data-urlencode "username=admin" --data-urlencode "password=hamdeli-demo-1405" \
  --data-urlencode "next=/" "http://127.0.0.1:$PORT/login"
COOKIE=$(awk -F'\t' 'NF >= 7 && $1 !~ /^#/ || $1 ~ /^#HttpOnly_/ {print $6 "=" $7}' "$JAR" | paste -sd';' | sed 's/;/; /g')
# A POST with the session cookie needs the CSRF token in the x-csrf-token header.
TOKEN=$(curl -fs -b "$JAR" "http://127.0.0.1:$PORT/registry" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" -H "x-csrf-token: $TOKEN" \
  -H 'Content-Type: application/json' --data-binary "$(head -1 "$WORK/queries.txt")" \
  "http://127.0.0.1:$PORT/api/v1/persons/search")
if [ "$STATUS" != 200 ]; then echo "search as admin answered $STATUS (login failed?)" >&2; exit 1; fi

PERSONS=$(curl -fs -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/metrics" 2>/dev/null | sed -n 's/^hamdeli_persons[^ ]* \([0-9]*\).*/\1/p' | head -1)
echo "engine: $ENGINE; $(nproc) cores; wrk -t1 -c$CONNECTIONS -d$DURATION over loopback; 3000 queries (national code / mobile / name)"
# Warm-up (page cache, prepared statements), then the measured run.
QUERIES="$WORK/queries.txt" COOKIE="$COOKIE" TOKEN="$TOKEN" wrk -t1 -c"$CONNECTIONS" -d5s -s bench/search.lua "http://127.0.0.1:$PORT" >/dev/null 2>&1 || true
QUERIES="$WORK/queries.txt" COOKIE="$COOKIE" TOKEN="$TOKEN" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/search.lua "http://127.0.0.1:$PORT" 
