"""Benchmark the vectorized SLA clock against the day-by-day loop, and a ServiceNow import.

Usage: ``python benchmarks/bench_sla.py [--n N] [--loop-sample M] [--seed S] [--import-rows R]``;
prints one JSON object (see :func:`servicebook.levels.bench.run_sla_benchmark`). With
``--import-rows`` (default 150,000; 0 to skip) it also measures importing and evaluating a
synthetic ServiceNow incident event log of that many rows, in a throw-away SQLite database
under a temporary directory with the demo provider loaded (your own database is never used).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

try:
    from servicebook.levels.bench import run_sla_benchmark
except ModuleNotFoundError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from servicebook.levels.bench import run_sla_benchmark


def import_figures(rows: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SERVICEBOOK_VAR_DIR"] = folder
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("DEBUG", "1")
        from servicebook.cli import migrate, setup_django

        setup_django()
        migrate()
        from servicebook.demo import load_demo
        from servicebook.levels.bench_import import run_import_benchmark

        load_demo()
        return run_import_benchmark(rows, seed=seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets (default 1,000,000)")
    parser.add_argument("--loop-sample", type=int, default=2_000, help="tickets for the loop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--import-rows", type=int, default=150_000, help="0 to skip")
    args = parser.parse_args(argv)
    result = run_sla_benchmark(n=args.n, loop_sample=args.loop_sample, seed=args.seed)
    if args.import_rows > 0:
        result["servicenow_import"] = import_figures(args.import_rows, args.seed)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
