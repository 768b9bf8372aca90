"""``servicebook bench load``: the whole site under load (benchmarks/bench_load.py, issue 14).

The benchmark drives ``servicebook serve`` with Locust, a development dependency: it runs from a
checkout of the repository (``benchmarks/`` beside ``src/``), with the dev extras installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

from servicebook.cli import CommandError, print_json

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


def bounded(low: int, high: int):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, not {number}")
        return number

    return parse


def register_bench(sub) -> None:
    from servicebook.web import bench_pages

    bench_pages.register_bench(sub)
    load = sub.add_parser(
        "load",
        help="servicebook serve (gunicorn, PostgreSQL) under Locust: every demo role at once",
    )
    load.add_argument("--users", type=bounded(1, 200), default=50, help="Locust users (50)")
    load.add_argument("--seconds", type=bounded(1, 600), default=60, help="run length (60)")
    load.add_argument(
        "--workers",
        type=bounded(1, 16),
        default=int(os.environ.get("WEB_CONCURRENCY", 2)),
        help="gunicorn workers (WEB_CONCURRENCY or 2)",
    )
    load.add_argument(
        "--baseline-seconds",
        type=bounded(0, 60),
        default=10,
        help="first run the same mix with one user, no think time, this long (10; 0 skips it)",
    )
    load.add_argument(
        "--pg-url", default=None, help="PostgreSQL server (postgres://postgres@127.0.0.1:5432)"
    )
    load.set_defaults(func=cmd_bench_load)


def _bench_module():
    path = BENCHMARKS / "bench_load.py"
    if not path.is_file():
        raise CommandError("the load benchmark runs from a checkout: benchmarks/ is not here")
    if importlib.util.find_spec("locust") is None:
        raise CommandError("the load benchmark needs Locust (pip install -e '.[dev]')")
    spec = importlib.util.spec_from_file_location("servicebook_bench_load", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def cmd_bench_load(args: argparse.Namespace) -> int:
    bench = _bench_module()
    try:
        result = bench.run(
            users=args.users,
            seconds=args.seconds,
            workers=args.workers,
            baseline_seconds=args.baseline_seconds,
            pg_url=args.pg_url,
        )
    except (ValueError, RuntimeError) as error:
        raise CommandError(str(error)) from None
    print_json(result)
    return 0
