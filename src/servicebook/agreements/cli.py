"""``servicebook agreements renewals [--on DATE]``: the contract's life, once a day (cron)."""

from __future__ import annotations

import argparse
import datetime as dt
import json


def register(sub) -> None:
    agreements = sub.add_parser("agreements", help="agreements and contracts")
    what = agreements.add_subparsers(dest="what", required=True)
    renewals = what.add_parser(
        "renewals",
        help="send the reminders before notice deadlines; renew, expire or terminate the terms "
        "that are over (idempotent: run it daily)",
    )
    renewals.add_argument("--on", help="the day to run as (YYYY-MM-DD; default today)")
    renewals.add_argument("--json", action="store_true", help="print a JSON summary")
    renewals.set_defaults(func=cmd_renewals)


def cmd_renewals(args: argparse.Namespace) -> int:
    from servicebook.agreements.lifecycle.services import run_renewals
    from servicebook.core.errors import DomainError

    on = None
    if args.on:
        try:
            on = dt.date.fromisoformat(args.on)
        except ValueError:
            raise DomainError(f"--on {args.on!r}: a date as YYYY-MM-DD") from None

    run = run_renewals(on=on)
    summary = run.as_dict()
    if args.json:
        print(json.dumps(summary))
        return 0
    counts = ", ".join(
        f"{len(summary[key])} {key}"
        for key in ("reminded", "renewed", "expired", "terminated", "pending")
    )
    print(f"{run.on}: {counts}")
    for key in ("reminded", "renewed", "expired", "terminated", "pending"):
        for reference in summary[key]:
            print(f"  {key:<10} {reference}")
    return 0
