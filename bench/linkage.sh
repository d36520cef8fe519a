#!/usr/bin/env bash
# Linkage benchmark figures (issue 3): `hamdeli link` on a data set made by the shared tools
# (../shared/bench/linkage, see ../shared/README.md), scored by their score.py.
#
#   bench/linkage.sh DATA_DIR [--splink] [--verbose] [--bin PATH] [--python PATH] [--threshold P]
#
# DATA_DIR is what gen.py wrote and to_contract.py completed (DATA_DIR/contract/org_*.csv and
# truth.csv). Prints one figure a line: wall s, CPU s (user+sys: what a busy machine does not
# distort), peak MB, precision, recall, F1 — for hamdeli and, with --splink, for Splink
# (run_splink.py --mode norm --u-pairs 1e6, clusters at match probability 0.9). --verbose also
# shows hamdeli's stage log on stderr.
# The release binary is built first unless --bin is given. Python: $LINKAGE_PYTHON, else
# /tmp/lbvenv/bin/python (the venv of the shared README), else python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/../shared/bench/linkage"
data=""
splink=0
verbose=0
bin=""
threshold=""
py="${LINKAGE_PYTHON:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --splink) splink=1 ;;
    --verbose) verbose=1 ;;
    --bin) bin="$2"; shift ;;
    --python) py="$2"; shift ;;
    --threshold) threshold="$2"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) if [[ -z "$data" ]]; then data="$1"; else echo "unexpected argument: $1" >&2; exit 2; fi ;;
  esac
  shift
done
[[ -n "$data" ]] || { echo "usage: bench/linkage.sh DATA_DIR [--splink] [--bin PATH] [--python PATH] [--threshold P]" >&2; exit 2; }
[[ -d "$tools" ]] || { echo "shared linkage tools not found at $tools" >&2; exit 2; }
data="$(cd "$data" && pwd)"
contract="$data/contract"
[[ -f "$contract/truth.csv" ]] || { echo "$contract/truth.csv missing: run to_contract.py $data first" >&2; exit 2; }
if [[ -z "$py" ]]; then
  if [[ -x /tmp/lbvenv/bin/python ]]; then py=/tmp/lbvenv/bin/python; else py=python3; fi
fi
if [[ -z "$bin" ]]; then
  (cd "$root" && cargo build --release -q -p hamdeli >&2)
  bin="${CARGO_TARGET_DIR:-$root/target}/release/hamdeli"
fi

inputs=()
for f in "$contract"/org_*.csv; do
  name="$(basename "$f" .csv)"
  inputs+=(--input "$name=$f")
done
[[ ${#inputs[@]} -gt 0 ]] || { echo "no org_*.csv in $contract" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# /usr/bin/time -v: wall clock as [h:]mm:ss.ss, peak RSS in kB.
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; printf "%.1f\n", s}' "$1"; }
cpu_s() { awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f\n", s}' "$1"; }
peak_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f\n", $2/1024}' "$1"; }
field() { "$py" -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

extra=()
[[ -n "$threshold" ]] && extra+=(--threshold "$threshold")
/usr/bin/time -v "$bin" link "${inputs[@]}" --out "$work/clusters.csv" "${extra[@]}" \
  2> "$work/hamdeli.err" || { cat "$work/hamdeli.err" >&2; exit 1; }
if [[ $verbose -eq 1 ]]; then tr '\r' '\n' < "$work/hamdeli.err" | grep '^\[' | grep -v reading >&2 || true; fi
score="$("$py" "$tools/score.py" "$contract" "$work/clusters.csv")"
records="$(field records <<< "$score")"
echo "hamdeli records: $records"
echo "hamdeli wall s: $(wall_s "$work/hamdeli.err")"
echo "hamdeli cpu s (user+sys): $(cpu_s "$work/hamdeli.err")"
echo "hamdeli peak MB: $(peak_mb "$work/hamdeli.err")"
echo "hamdeli precision: $(field precision <<< "$score")"
echo "hamdeli recall: $(field recall <<< "$score")"
echo "hamdeli F1: $(field f1 <<< "$score")"

if [[ $splink -eq 1 ]]; then
  /usr/bin/time -v "$py" "$tools/run_splink.py" --data "$data" --mode norm --u-pairs 1e6 \
    --json "$work/splink.json" > "$work/splink.out" 2> "$work/splink.err" \
    || { cat "$work/splink.out" "$work/splink.err" >&2; exit 1; }
  "$py" - "$work/splink.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r["clusters"]["0.9"]
print(f"splink records: {r['records']}")
print(f"splink wall s (train+predict+cluster): {r['splink_total_s']:.1f}")
PY
  echo "splink wall s (whole run): $(wall_s "$work/splink.err")"
  echo "splink cpu s (user+sys, whole run): $(cpu_s "$work/splink.err")"
  echo "splink peak MB: $(peak_mb "$work/splink.err")"
  "$py" - "$work/splink.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["clusters"]["0.9"]
print(f"splink precision: {c['precision']}")
print(f"splink recall: {c['recall']}")
print(f"splink F1: {c['f1']}")
PY
fi
