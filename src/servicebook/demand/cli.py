"""``servicebook demand capacity`` and ``servicebook demand npv``."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation


def register(sub) -> None:
    demand = sub.add_parser("demand", help="demand, business cases and capacity")
    what = demand.add_subparsers(dest="what", required=True)
    capacity = what.add_parser("capacity", help="capacity pools and who competes for them")
    capacity.add_argument("--json", action="store_true", help="print JSON")
    capacity.set_defaults(func=cmd_capacity)
    npv = what.add_parser("npv", help="NPV, payback and ROI of an investment (no database)")
    npv.add_argument("--investment", required=True)
    npv.add_argument("--benefit", required=True, help="yearly net benefit")
    npv.add_argument("--years", type=int, default=5)
    npv.add_argument("--rate", default="0.08", help="yearly discount rate, e.g. 0.08")
    npv.add_argument("--json", action="store_true", help="print JSON")
    npv.set_defaults(func=cmd_npv)


def _decimal(value: str, name: str) -> Decimal:
    from servicebook.cli import CommandError

    try:
        result = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--{name} must be a number, not {value!r}") from None
    if not result.is_finite():
        raise CommandError(f"--{name} must be a finite number")
    return result


def cmd_npv(args: argparse.Namespace) -> int:
    from servicebook.cli import CommandError, print_json
    from servicebook.demand import investment

    try:
        figures = investment.figures(
            investment=_decimal(args.investment, "investment"),
            yearly_benefit=_decimal(args.benefit, "benefit"),
            years=args.years,
            rate=_decimal(args.rate, "rate"),
        )
    except ValueError as error:
        raise CommandError(str(error)) from None
    data = {
        "npv": figures.npv,
        "payback_years": figures.payback_years,
        "roi_percent": figures.roi_percent,
    }
    if args.json:
        print_json(data)
    else:
        payback = f"{figures.payback_years} years" if figures.payback_years else "not in horizon"
        print(f"NPV {figures.npv} · payback {payback} · ROI {figures.roi_percent}%")
    return 0


def cmd_capacity(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    setup_django()
    from servicebook.demand.selectors import capacity_competition

    pools = capacity_competition()
    data = [
        {
            "pool": v.pool.name,
            "unit": v.pool.unit,
            "capacity": v.pool.capacity,
            "reserved": v.reserved,
            "requested": v.requested,
            "left": v.left,
            "competitors": [
                {
                    "customer": c.customer.name,
                    "reserved": c.reserved,
                    "requested": c.requested,
                    "monthly_cost": c.monthly_cost,
                    "budget": c.budget,
                    "best_npv_per_unit": c.best_value,
                }
                for c in v.competitors
            ],
        }
        for v in pools
    ]
    if args.json:
        print_json({"pools": data})
        return 0
    for pool in data:
        print(
            f"{pool['pool']}: {pool['reserved']}/{pool['capacity']} {pool['unit']} reserved, "
            f"{pool['requested']} asked"
        )
        for c in pool["competitors"]:
            print(
                f"  {c['customer']:<22} reserved {c['reserved']:>8} asked {c['requested']:>8} "
                f"NPV/unit {c['best_npv_per_unit']}"
            )
    return 0
