#!/usr/bin/env bash
# Every page at national scale (issue 17): builds a demo data set of N people through the
# product's own paths (`hamdeli demo --people N`: the organisations' lists imported and
# linked, households, needs, campaigns, allocations, deliveries, and each capability's demo
# data), starts the release server on it, and times every GET page and API route of
# bench/pages.routes as each role (`hamdeli bench pages`: one warm-up, then N requests one
# after another over loopback), on SQLite and/or PostgreSQL. Prints p50/p99 per route and
# role as Markdown tables.
#
#   bench/pages.sh [--people 100000] [--engine sqlite|postgres|both] [--requests 20]
#                  [--dir /tmp/hamdeli-bench-pages] [--postgres postgres://postgres@127.0.0.1:5432]
#                  [--port 18180] [--keep] [--routes FILE] [--reuse]
#
# --routes FILE times only the lines of FILE (e.g. bench/pages-national.routes) instead of
# bench/pages.routes. --reuse keeps a data set already built (PostgreSQL: the database exists
# and holds the demo; SQLite: the data directory has its database) instead of building it.
#
# The data set is made once per engine and size and kept under --dir (SQLite) or in the
# database hamdeli_bench_pages_<N> (PostgreSQL), dropped at the end unless --keep.
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE=100000
ENGINES=both
REQUESTS=20
DIR=/tmp/hamdeli-bench-pages
PG_BASE=postgres://postgres@127.0.0.1:5432
PORT=18180
KEEP=
ROUTES=
REUSE=
while [ $# -gt 0 ]; do
  case "$1" in
    --people) PEOPLE=$2; shift 2 ;;
    --engine) ENGINES=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --postgres) PG_BASE=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --routes) ROUTES=$2; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$ENGINES" = both ] && ENGINES="sqlite postgres"

# HAMDELI=path/to/hamdeli uses that binary as it is (no build).
if [ -z "${HAMDELI:-}" ]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
  cargo build --release -p hamdeli >&2
  HAMDELI=$CARGO_TARGET_DIR/release/hamdeli
fi

SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

for ENGINE in $ENGINES; do
  DATA_DIR="$DIR/$ENGINE-$PEOPLE"
  mkdir -p "$DATA_DIR"
  ARGS=(--data-dir "$DATA_DIR")
  if [ "$ENGINE" = postgres ]; then
    DB="hamdeli_bench_pages_$PEOPLE"
    psql "$PG_BASE/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
      || psql "$PG_BASE/postgres" -qc "CREATE DATABASE $DB"
    ARGS+=(--database-url "$PG_BASE/$DB")
  fi
  echo "== $ENGINE, $PEOPLE demo people ($(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB) ==" >&2
  if [ -n "$REUSE" ] && [ -s "$DATA_DIR/demo.log" ]; then
    echo "reusing the data set: $(grep -a 'demo population\|demo distribution' "$DATA_DIR/demo.log" | tr '\n' ' ')" >&2
  else
    START=$(date +%s)
    "$HAMDELI" "${ARGS[@]}" demo --people "$PEOPLE" >"$DATA_DIR/demo.log" 2>&1
    echo "data set ready in $(( $(date +%s) - START )) s: $(grep -a 'demo population\|demo distribution' "$DATA_DIR/demo.log" | tr '\n' ' ')" >&2
    "$HAMDELI" "${ARGS[@]}" admin rebuild-summaries >&2
  fi
  "$HAMDELI" "${ARGS[@]}" serve --bind "127.0.0.1:$PORT" >"$DATA_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 240); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  echo
  echo "### $ENGINE, $PEOPLE demo people"
  echo
  ROUTE_ARGS=()
  [ -n "$ROUTES" ] && ROUTE_ARGS=(--routes "$ROUTES")
  "$HAMDELI" "${ARGS[@]}" bench pages --url "http://127.0.0.1:$PORT" --requests "$REQUESTS" "${ROUTE_ARGS[@]}"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  if [ -z "$KEEP" ]; then
    if [ "$ENGINE" = postgres ]; then psql "$PG_BASE/postgres" -qc "DROP DATABASE $DB"; fi
    rm -rf "$DATA_DIR"
  fi
done
