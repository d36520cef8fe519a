#!/usr/bin/env bash
# Import throughput (issue 3, "Figures"): a 1M-row CSV imported into a fresh registry by
# `hamdeli import`, which reads, links in memory and writes records with their persons (end to
# end); then, into another fresh registry, `hamdeli import --defer-link` (file to committed
# rows, no persons) followed by `hamdeli relink`. Prints rows/s and peak memory of each. Leaves
# the second registry (linked by relink) in place for bench/search.sh.
#
#   bench/import.sh [--rows 1000000] [--csv FILE] [--data-dir DIR] [--database-url postgres://…]
#
# Without --database-url: SQLite in DIR (default /tmp/hamdeli-bench/sqlite, recreated; with
# PostgreSQL DIR defaults to /tmp/hamdeli-bench/postgres and holds the secret key). With a
# PostgreSQL URL the database is dropped and created again (psql must reach the server).
# The CSV (default /tmp/hamdeli-bench/people-<ROWS/1000>k.csv) is generated once by the synthetic
# population example (organisations' noisy lists, then clean population rows).
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=1000000
CSV=
DATA_DIR=
DB_URL=
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS=$2; shift 2 ;;
    --csv) CSV=$2; shift 2 ;;
    --data-dir) DATA_DIR=$2; shift 2 ;;
    --database-url) DB_URL=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# The data directory also holds the server's secret key (PostgreSQL runs too).
if [ -z "$DATA_DIR" ]; then
  if [ -n "$DB_URL" ]; then DATA_DIR=/tmp/hamdeli-bench/postgres; else DATA_DIR=/tmp/hamdeli-bench/sqlite; fi
fi
CSV=${CSV:-/tmp/hamdeli-bench/people-$((ROWS / 1000))k.csv}

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -p hamdeli >&2
HAMDELI="$CARGO_TARGET_DIR/release/hamdeli"
if [ ! -s "$CSV" ]; then
  mkdir -p "$(dirname "$CSV")"
  cargo run --release -p hamdeli-synth --example bench_csv -- "$CSV" "$ROWS" >&2
fi
LINES=$(($(wc -l <"$CSV") - 1))

ENGINE=sqlite
DB_ARGS=(--data-dir "$DATA_DIR")
if [ -n "$DB_URL" ]; then
  ENGINE=postgres
  DB_ARGS+=(--database-url "$DB_URL")
  DB_NAME=${DB_URL##*/}
  DB_NAME=${DB_NAME%%\?*}
  ADMIN_URL=${DB_URL%/*}/postgres
fi

fresh_registry() {
  rm -rf "$DATA_DIR"
  mkdir -p "$DATA_DIR"
  if [ -n "$DB_URL" ]; then
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB_NAME" -c "CREATE DATABASE $DB_NAME" >&2
  fi
  # Users and organisations only (no demo population).
  "$HAMDELI" "${DB_ARGS[@]}" demo --people 0 >/dev/null
  # Each timed run starts with the earlier runs' writes on disk, not still being flushed.
  sync
}

# Wall seconds and peak resident MB of a command, appended to $TIMES as "seconds megabytes".
timed() {
  /usr/bin/time -f "%e %M" -o "$TIMES.one" "$@"
  awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$TIMES.one" >>"$TIMES"
}
TIMES=$(mktemp)
LOGS=$(mktemp -d)

fresh_registry
timed "$HAMDELI" "${DB_ARGS[@]}" import --organisation 1 --list bench --file "$CSV" \
  --report "$DATA_DIR/import-report.csv" 2>"$LOGS/import-linked.log" | grep -E '^(rows in|batch|linked)'

fresh_registry
timed "$HAMDELI" "${DB_ARGS[@]}" import --organisation 1 --list bench --file "$CSV" --defer-link \
  --report "$DATA_DIR/import-report.csv" 2>"$LOGS/import.log" | grep -E '^(rows in|batch)'
sync
timed "$HAMDELI" "${DB_ARGS[@]}" relink

awk -v rows="$LINES" -v engine="$ENGINE" -v cores="$(nproc)" '
  { t[NR] = $1; m[NR] = $2 }
  END {
    printf "engine %s, %d cores, %d rows\n", engine, cores, rows
    printf "import, linked (end to end):  %6.1f s  %8.0f rows/s  peak %5d MB\n", t[1], rows / t[1], m[1]
    printf "import --defer-link:          %6.1f s  %8.0f rows/s  peak %5d MB\n", t[2], rows / t[2], m[2]
    printf "relink:                       %6.1f s  %8.0f rows/s  peak %5d MB\n", t[3], rows / t[3], m[3]
    printf "defer-link import + relink:   %6.1f s  %8.0f rows/s\n", t[2] + t[3], rows / (t[2] + t[3])
  }' "$TIMES"
rm -f "$TIMES" "$TIMES.one"
for log in import-linked import; do
  sed 's/\x1b\[K//g' "$LOGS/$log.log" | tr '\r' '\n' | grep -E 'rows in [0-9.]+ s|^written' >&2 || true
done
rm -rf "$LOGS"
