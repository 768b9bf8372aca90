"""Benchmark the vectorized SLA clock against the day-by-day loop.

Usage: ``python benchmarks/bench_sla.py [--n N] [--loop-sample M] [--seed S]``; prints one
JSON object (see :func:`servicebook.levels.bench.run_sla_benchmark`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    from servicebook.levels.bench import run_sla_benchmark
except ModuleNotFoundError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from servicebook.levels.bench import run_sla_benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets (default 1,000,000)")
    parser.add_argument("--loop-sample", type=int, default=2_000, help="tickets for the loop")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = run_sla_benchmark(n=args.n, loop_sample=args.loop_sample, seed=args.seed)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
