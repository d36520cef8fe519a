#!/usr/bin/env bash
# Linkage figures on the project's own generator (hamdeli-synth): its organisations' lists (the
# household roster left out), linked by `hamdeli link`, scored pairwise against its truth.csv.
#
#   bench/linkage_synth.sh DIR [--people N] [--seed S] [--classic] [--bin PATH] [--verbose]
#                              [--misses N]
#
# Makes DIR with the synth example unless DIR/truth.csv is there (--people, default 885,000,
# with the household roster gives about 1M list rows; --classic: the generator as it was before issue 18, without the
# household patterns). Prints records, wall s, CPU s, peak MB, precision, recall, F1. --misses N
# prints N false and N missed pairs (the XLSX charity list's cells are not shown).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir=""
people=885000
seed=1405
classic=0
bin=""
verbose=0
misses=0
py="${LINKAGE_PYTHON:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --people) people="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    --classic) classic=1 ;;
    --bin) bin="$2"; shift ;;
    --verbose) verbose=1 ;;
    --misses) misses="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) if [[ -z "$dir" ]]; then dir="$1"; else echo "unexpected argument: $1" >&2; exit 2; fi ;;
  esac
  shift
done
[[ -n "$dir" ]] || { echo "usage: bench/linkage_synth.sh DIR [--people N] [--seed S] [--classic]" >&2; exit 2; }
if [[ -z "$py" ]]; then
  if [[ -x /tmp/lbvenv/bin/python ]]; then py=/tmp/lbvenv/bin/python; else py=python3; fi
fi
target="${CARGO_TARGET_DIR:-$root/target}"
if [[ ! -f "$dir/truth.csv" ]]; then
  (cd "$root" && cargo build --release -q -p hamdeli-synth --example synth >&2)
  extra=()
  [[ $classic -eq 1 ]] || extra+=(--households)
  "$target/release/examples/synth" "$dir" "$people" "$seed" "${extra[@]}" >&2
fi
dir="$(cd "$dir" && pwd)"
[[ -f "$dir/contract/truth_all.csv" ]] || "$py" "$root/bench/linkage_synth.py" truth "$dir" >/dev/null
if [[ -z "$bin" ]]; then
  (cd "$root" && cargo build --release -q -p hamdeli >&2)
  bin="$target/release/hamdeli"
fi
inputs=()
for f in "$dir"/*.csv "$dir"/*.xlsx; do
  [[ -f "$f" ]] || continue
  name="$(basename "$f")"; name="${name%.*}"
  case "$name" in truth|households|population) continue ;; esac
  inputs+=(--input "$name=$f")
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; printf "%.1f\n", s}' "$1"; }
cpu_s() { awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f\n", s}' "$1"; }
peak_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f\n", $2/1024}' "$1"; }
/usr/bin/time -v "$bin" link "${inputs[@]}" --out "$work/clusters.csv" 2> "$work/hamdeli.err" \
  || { cat "$work/hamdeli.err" >&2; exit 1; }
if [[ $verbose -eq 1 ]]; then tr '\r' '\n' < "$work/hamdeli.err" | grep '^\[' | grep -v reading >&2 || true; fi
score="$("$py" "$root/bench/linkage_synth.py" score "$dir" "$work/clusters.csv" --misses "$misses")"
echo "$score" | tail -n +2
field() { "$py" -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }
head -1 <<< "$score" > "$work/score.json"
echo "hamdeli records: $(field records < "$work/score.json") (rejected $(field rejected_rows < "$work/score.json"))"
echo "hamdeli wall s: $(wall_s "$work/hamdeli.err")"
echo "hamdeli cpu s (user+sys): $(cpu_s "$work/hamdeli.err")"
echo "hamdeli peak MB: $(peak_mb "$work/hamdeli.err")"
echo "hamdeli precision: $(field precision < "$work/score.json")"
echo "hamdeli recall: $(field recall < "$work/score.json")"
echo "hamdeli F1: $(field f1 < "$work/score.json")"
