"""Writes a linkage benchmark set too large for the shared generator's memory (10M records).

Usage: python bench/linkage_stream_gen.py --records 10000000 --seed 7 --out /tmp/lb/n10m

The shared `gen.py` keeps every record as a Python dict, then a DataFrame, then Parquet: about
26 GB for 10M records, more than a 24 GB machine has. This script imports the shared `gen.py`
(../shared/bench/linkage) and runs its own population and record makers in the same order, so
it draws the same random numbers, but writes each record as it is made, straight into the files
`to_contract.py` would write: OUT/contract/org_A.csv, org_B.csv, org_C.csv and truth.csv. For a
size `gen.py` can make, the four files are byte for byte what `gen.py` then `to_contract.py`
write (compare with `cmp`). No Parquet files are written.
"""
import argparse
import csv
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench", "linkage"))
import gen  # noqa: E402  (the shared generator)

# to_contract.py's columns, and pandas' to_csv: minimal quoting, "\n", missing values empty.
COLUMNS = ["national_code", "first_name", "last_name", "father_name", "birth_date", "gender",
           "phone", "province", "county", "address"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    t0 = time.time()
    # As gen.main does.
    expected_per_person = sum(c["p"] for c in gen.ORGS.values()) * 1.04
    people = gen.build_population(int(a.records / expected_per_person), a.seed)
    gen.ALL_COUNTIES.extend(sorted({(p["province"], p["county"]) for p in people}))
    r = gen.random.Random(a.seed + 1)
    out = os.path.join(a.out, "contract")
    os.makedirs(out, exist_ok=True)
    records_of = [0] * len(people)
    rid = 0
    with open(os.path.join(out, "truth.csv"), "w", encoding="utf-8", newline="",
              buffering=1 << 20) as tf:
        truth = csv.writer(tf, lineterminator="\n")
        truth.writerow(["source", "source_id", "person_id"])
        # gen.main makes org A's records, then B's, then C's: rec_id order is also the order
        # of to_contract's per-organisation files and of its truth.csv.
        for org, cfg in gen.ORGS.items():
            with open(os.path.join(out, f"org_{org}.csv"), "w", encoding="utf-8", newline="",
                      buffering=1 << 20) as of:
                rows = csv.writer(of, lineterminator="\n")
                rows.writerow(["source_id"] + COLUMNS)
                for p in people:
                    if r.random() >= cfg["p"]:
                        continue
                    copies = 2 if r.random() < 0.04 else 1
                    for _ in range(copies):
                        rec = gen.make_record(p, org, cfg, r)
                        rows.writerow([rid] + ["" if rec[c] is None else rec[c] for c in COLUMNS])
                        truth.writerow([f"org_{org}", rid, p["true_id"]])
                        records_of[p["true_id"]] += 1
                        rid += 1
    true_pairs = sum(n * (n - 1) // 2 for n in records_of)
    print(f"people={len(people)} records={rid} true_pairs={true_pairs} "
          f"in {time.time() - t0:.1f}s -> {out}")


if __name__ == "__main__":
    main()
