"""``servicebook changes …`` and ``servicebook bench ical``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time


def register(sub) -> None:
    changes = sub.add_parser("changes", help="requests for change and the change schedule")
    what = changes.add_subparsers(dest="what", required=True)
    listing = what.add_parser("list", help="list requests for change")
    listing.add_argument("--customer", help="only changes affecting this customer code")
    listing.add_argument("--status", help="only changes in this status")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)
    feed = what.add_parser("feed", help="write a customer's change schedule as iCalendar")
    feed.add_argument("customer", help="customer code, e.g. marketing")
    feed.add_argument("--output", "-o", help="file to write (default: standard output)")
    feed.add_argument("--json", action="store_true", help="print a JSON summary")
    feed.set_defaults(func=cmd_feed)


def register_bench(sub) -> None:
    bench = sub.add_parser("ical", help="build and fold an iCalendar feed of N change windows")
    bench.add_argument("--n", type=int, default=10_000)
    bench.set_defaults(func=cmd_bench)


def _customer(code: str):
    from servicebook.cli import CommandError
    from servicebook.parties.models import Customer

    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        raise CommandError(f"no customer with code {code!r}")
    return customer


def cmd_list(args: argparse.Namespace) -> int:
    from servicebook.cli import CommandError, print_json, setup_django

    setup_django()
    from servicebook.changes.models import ChangeRequest, ChangeStatus

    queryset = ChangeRequest.objects.prefetch_related("services").order_by("reference")
    if args.status:
        if args.status not in ChangeStatus.values:
            raise CommandError(
                f"unknown status {args.status!r} (one of {', '.join(ChangeStatus.values)})"
            )
        queryset = queryset.filter(status=args.status)
    if args.customer:
        queryset = queryset.scope_for_customer(_customer(args.customer))
    rows = [
        {
            "reference": c.reference,
            "title": c.title,
            "type": c.change_type,
            "status": c.status,
            "services": [s.code for s in c.services.all()],
            "planned_start": c.planned_start,
            "planned_end": c.planned_end,
        }
        for c in queryset
    ]
    if args.json:
        print_json({"changes": rows, "count": len(rows)})
        return 0
    for row in rows:
        start = f"{row['planned_start']:%Y-%m-%d %H:%M}" if row["planned_start"] else "-"
        print(f"{row['reference']:<15} {row['status']:<18} {start:<17} {row['title']}")
    return 0


def cmd_feed(args: argparse.Namespace) -> int:
    from servicebook.cli import CommandError, print_json, setup_django

    setup_django()
    from django.utils import timezone

    from servicebook.changes import selectors

    customer = _customer(args.customer)
    text = selectors.feed_text(customer, now=timezone.now())
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as error:
            raise CommandError(f"cannot write {args.output}: {error.strerror}") from None
    else:
        sys.stdout.write(text)
    if args.json:
        print_json({"customer": customer.code, "events": text.count("BEGIN:VEVENT")})
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from servicebook.changes import ical
    from servicebook.cli import CommandError, print_json

    if args.n < 1:
        raise CommandError("--n must be at least 1")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    events = [
        ical.Event(
            uid=f"rfc-{i}@bench",
            start=start + dt.timedelta(hours=i),
            end=start + dt.timedelta(hours=i, minutes=90),
            summary=f"RFC-{i:06d} Storage tier upgrade, phase {i % 7}; ring {i % 3}",
            description="Services: Cloud Hosting.\nRisk: medium.\nYour test task: regression-"
            "test the campaign analytics dashboards on the new tier (Clara Dupont).",
        )
        for i in range(args.n)
    ]
    began = time.perf_counter()
    text = ical.build_calendar(name="bench", events=events, now=start)
    seconds = time.perf_counter() - began
    print_json(
        {
            "benchmark": "ical",
            "events": args.n,
            "seconds": round(seconds, 4),
            "events_per_second": round(args.n / seconds) if seconds else None,
            "bytes": len(text.encode("utf-8")),
        }
    )
    return 0
