"""``servicebook improvement …``: the register, the retention rule, health and review packs."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    improvement = sub.add_parser(
        "improvement", help="the improvement register, relationship health and review packs"
    )
    what = improvement.add_subparsers(dest="what", required=True)
    propose = what.add_parser(
        "propose",
        help="propose retention items for contracts breached in 2 of the last 3 months",
    )
    propose.add_argument("--period", help="last month of the window, YYYY-MM (default: now)")
    propose.add_argument("--json", action="store_true", help="print a JSON summary")
    propose.set_defaults(func=cmd_propose)
    listing = what.add_parser("list", help="list improvement items")
    listing.add_argument("--customer", help="only items concerning this customer code")
    listing.add_argument("--status", help="only items in this status")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)
    health = what.add_parser("health", help="relationship health of every customer")
    health.add_argument("--period", help="last month of the window, YYYY-MM (default: now)")
    health.add_argument("--kind", help="internal or external")
    health.add_argument("--json", action="store_true", help="print JSON")
    health.set_defaults(func=cmd_health)
    rank = what.add_parser(
        "rank",
        help="rank and keep relationship health (the pages read the kept ranking): the "
        "current month, the reports' month and every kept ranking not current; run it nightly",
    )
    rank.add_argument("--period", action="append", default=[], help="also this YYYY-MM")
    rank.add_argument("--json", action="store_true", help="print a JSON summary")
    rank.set_defaults(func=cmd_rank)
    pack = what.add_parser("review-pack", help="a customer's service review pack (PDF)")
    pack.add_argument("customer", help="customer code, e.g. marketing")
    pack.add_argument("period", help="YYYY-MM")
    pack.add_argument("--output", "-o", help="PDF file to write (default: review-CODE-PERIOD.pdf)")
    pack.add_argument("--json", action="store_true", help="print the pack as JSON, no PDF")
    pack.set_defaults(func=cmd_pack)
    report = sub.add_parser("report", help="reports across customers")
    which = report.add_subparsers(dest="what", required=True)
    parity = which.add_parser(
        "parity", help="customer-service parity of internal and external customers (R21)"
    )
    parity.add_argument("--period", help="YYYY-MM (default: the reports' period)")
    parity.add_argument(
        "--propose", action="store_true", help="propose improvements for the flagged gaps"
    )
    parity.add_argument("--json", action="store_true", help="print JSON")
    parity.set_defaults(func=cmd_parity)


def _period(value: str | None) -> str | None:
    from servicebook.cli import CommandError
    from servicebook.core.periods import is_period

    if value and not is_period(value):
        raise CommandError(f"period must be YYYY-MM, not {value!r}")
    return value


def _customer(code: str):
    from servicebook.cli import CommandError
    from servicebook.parties.models import Customer

    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        raise CommandError(f"no customer with code {code!r}")
    return customer


def _kind(value: str | None) -> str | None:
    from servicebook.cli import CommandError
    from servicebook.policy import POLICIES

    if value and value not in POLICIES:
        raise CommandError(f"kind must be one of {', '.join(POLICIES)}, not {value!r}")
    return value


def cmd_propose(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    period = _period(args.period)
    setup_django()
    from servicebook.improvement import services

    created = services.propose_retention_improvements(actor=None, period=period)
    rows = [
        {"id": i.pk, "title": i.title, "customer": i.customer.code, "period": i.period}
        for i in created
    ]
    if args.json:
        print_json({"created": rows, "count": len(rows)})
        return 0
    if not rows:
        print("No contract breached repeatedly without an open retention item.")
    for row in rows:
        print(f"#{row['id']:<5} {row['customer']:<12} {row['title']}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from servicebook.cli import CommandError, print_json, setup_django

    setup_django()
    from servicebook.improvement.models import Improvement, ImprovementStatus

    queryset = Improvement.objects.select_related("customer").order_by("pk")
    if args.status:
        if args.status not in ImprovementStatus.values:
            raise CommandError(
                f"unknown status {args.status!r} (one of {', '.join(ImprovementStatus.values)})"
            )
        queryset = queryset.filter(status=args.status)
    if args.customer:
        queryset = queryset.scope_for_customer(_customer(args.customer))
    rows = [
        {
            "id": i.pk,
            "customer": i.customer.code,
            "status": i.status,
            "driver": i.driver,
            "source": i.source,
            "title": i.title,
            "expected_value": i.expected_value,
            "measured_value": i.measured_value,
            "result_met": i.result_met,
        }
        for i in queryset
    ]
    if args.json:
        print_json({"improvements": rows, "count": len(rows)})
        return 0
    for row in rows:
        print(f"#{row['id']:<5} {row['customer']:<12} {row['status']:<12} {row['title']}")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    period, kind = _period(args.period), _kind(args.kind)
    setup_django()
    from servicebook.improvement.api import health_data
    from servicebook.improvement.selectors import _Everyone, health_for

    rows = [health_data(h) for h in health_for(_Everyone(), period=period, kind=kind)]
    if args.json:
        print_json({"customers": rows, "count": len(rows)})
        return 0
    for row in rows:
        concerns = "; ".join(row["concerns"]) or "-"
        print(f"{row['code']:<12} {row['rating']:<8} {concerns}")
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    periods = [_period(p) for p in args.period]
    setup_django()
    from servicebook.improvement import ranking, selectors

    periods += [selectors.current_period(), selectors.default_period()]
    ranked = ranking.rank_due(periods=periods)
    rows = [{"period": k.period, "customers": k.customers, "took_ms": k.took_ms} for k in ranked]
    if args.json:
        print_json({"ranked": rows})
        return 0
    for row in rows:
        print(f"{row['period']}  {row['customers']} customers ranked in {row['took_ms']} ms")
    return 0


def cmd_pack(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    period = _period(args.period)
    setup_django()
    from servicebook.improvement.api import pack_data
    from servicebook.improvement.export import pack_pdf
    from servicebook.improvement.selectors import _Everyone, review_pack

    customer = _customer(args.customer)
    pack = review_pack(customer, period)
    if args.json:
        print_json(pack_data(pack, _Everyone()))
        return 0
    output = Path(args.output or f"review-{customer.code}-{period}.pdf")
    try:
        output.write_bytes(pack_pdf(pack, user=_Everyone()))
    except OSError as error:
        from servicebook.cli import CommandError

        raise CommandError(f"cannot write {output}: {error.strerror}") from None
    print(f"Wrote {output} ({output.stat().st_size:,} bytes).")
    return 0


def cmd_parity(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    period = _period(args.period)
    setup_django()
    from servicebook.improvement import parity
    from servicebook.improvement.api import plain
    from servicebook.improvement.selectors import default_period

    period = period or default_period()
    created = parity.propose_parity_improvements(actor=None, period=period) if args.propose else []
    data = parity.report_data(parity.parity_report(period))
    data["proposed"] = [{"id": i.pk, "title": i.title, "driver": i.driver} for i in created]
    if args.json:
        print_json(plain(data))
        return 0
    print(f"Customer-service parity {period} (tolerated gap {data['tolerance_percent']} %)")
    for gap in data["gaps"]:
        shown = {k: "-" if gap[k] is None else gap[k] for k in ("internal", "external")}
        gap_percent, p_value = (
            gap[k] if gap[k] is not None else "-" for k in ("gap_percent", "p_value")
        )
        print(
            f"{'GAP' if gap['flagged'] else 'ok':<4} {gap['label']:<36} "
            f"internal {shown['internal']:>8} external {shown['external']:>8} "
            f"gap {gap_percent:>7} % p {p_value}"
        )
    for row in data["proposed"]:
        print(f"Proposed #{row['id']}: {row['title']}")
    return 0
