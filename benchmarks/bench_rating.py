"""Print the rating benchmark as JSON: ``python benchmarks/bench_rating.py --n 20000000``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from servicebook.finance.usage.bench_rating import run_rating_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--records", "--n", dest="n", type=int, default=20_000_000, help="records to generate"
    )
    parser.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data here")
    parser.add_argument("--loop-sample", type=int, default=20_000, help="records for the loop")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = parser.parse_args()
    result = run_rating_benchmark(
        n=args.n,
        workdir=args.workdir,
        loop_sample=args.loop_sample,
        repeat=args.repeat,
        backend=args.backend,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
