"""Benchmark the ServiceNow ticket import: a synthetic incident event log of N rows (default
150,004, the size of the public export) imported into a throwaway SQLite database, attainment
recomputed; prints one JSON object (rows_per_s, seconds, peak_rss_mb).
Same as ``servicebook bench import [--rows N]``."""

from __future__ import annotations

import argparse
import json

from servicebook.levels.bench_import import run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=150_004)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(run(rows=args.rows, seed=args.seed), indent=2))
