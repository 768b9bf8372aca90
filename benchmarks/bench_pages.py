"""Benchmark every list page, detail page and API list at scale, as the provider admin and as
customer users (issue 14); prints one JSON object. Same as ``servicebook bench pages``:

    python benchmarks/bench_pages.py [--customers 10000] [--baseline 1000] [--repeat 10]
                                     [--only REGEX] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json

from servicebook.web.bench_pages import run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", default=None, help="measure only pages matching REGEX")
    parser.add_argument("--keep", default=None, help="keep and reuse the databases in DIR")
    args = parser.parse_args()
    result = run(
        customers=args.customers,
        baseline=args.baseline,
        repeat=args.repeat,
        only=args.only,
        keep=args.keep,
    )
    print(json.dumps(result, indent=2))
