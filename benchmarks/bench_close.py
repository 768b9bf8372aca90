"""Benchmark the period close: N customers (default 10,000) with 20 lines each, on SQLite and
PostgreSQL; prints one JSON object. Same as ``servicebook bench close [--n N]``."""

from __future__ import annotations

import argparse
import json

from servicebook.finance.billing.bench_close import run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres", "postgresql", "both"], default="both"
    )
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args()
    print(
        json.dumps(
            run(n=args.n, lines=args.lines, backend=args.backend, pg_url=args.pg_url), indent=2
        )
    )
