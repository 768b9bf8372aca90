"""``servicebook import readings FILE`` and ``servicebook strategy compute MONTH``."""

from __future__ import annotations

import argparse
from pathlib import Path


def _month(value: str) -> str:
    from servicebook.core.periods import PeriodError, check_period

    try:
        return check_period(value)
    except PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(sub) -> None:
    strategy = sub.add_parser("strategy", help="measures of objectives and desired outcomes")
    what = strategy.add_subparsers(dest="what", required=True)
    compute = what.add_parser(
        "compute", help="compute the readings of computed measures for the period of a month"
    )
    compute.add_argument("month", type=_month, help="YYYY-MM")
    compute.add_argument("--json", action="store_true", help="print JSON")
    compute.set_defaults(func=cmd_compute)


def register_import(sub) -> None:
    readings = sub.add_parser("readings", help="import readings of measures from CSV")
    readings.add_argument("file", help="CSV: measure, period, value[, note]")
    readings.add_argument("--json", action="store_true", help="print JSON")
    readings.set_defaults(func=cmd_import_readings)


def _domain(call):
    from servicebook.cli import CommandError
    from servicebook.core.errors import DomainError

    try:
        return call()
    except DomainError as error:
        raise CommandError(error.message) from None


def cmd_compute(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    setup_django()
    from servicebook.strategy import services

    result = _domain(lambda: services.compute_readings(actor=None, month=args.month))
    if args.json:
        print_json(result)
    else:
        for line in result["written"]:
            print(line)
        for line in result["without_data"]:
            print(f"{line}: nothing to compute from")
        print(f"{len(result['written'])} readings computed for {args.month}.")
    return 0


def cmd_import_readings(args: argparse.Namespace) -> int:
    from servicebook.cli import CommandError, print_json, setup_django

    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"{args.file}: no such file")
    setup_django()
    from servicebook.strategy import services

    text = path.read_text(encoding="utf-8-sig", errors="replace")
    result = _domain(lambda: services.import_readings(actor=None, text=text))
    if args.json:
        print_json(result.as_dict())
    else:
        for reject in result.rejected:
            print(f"row {reject['row']}, {reject['field']}: {reject['reason']}")
        print(
            f"{result.read} rows read: {result.imported} imported, {len(result.rejected)} rejected."
        )
    return 1 if result.rejected else 0
