"""Demo: October 2026 costs allocated to services, and two closed months.

- Cost pools of 2026-10 in the TBM taxonomy with allocation rules (fixed percentages, headcount,
  metered usage) give each service's cost and each offering's unit cost.
- 2026-09 and 2026-10 are closed: internal statements at cost (chargeback, showback, central
  allocation), the airline's invoices split into cash and air tickets. 2026-03 is closed too:
  the retailer's March invoice carries the service credit its outage earned (levels demo).
- Payments: the airline paid September in cash and tickets and has delivered two of October's
  four tickets; Pacific paid; the retailer's September invoice is overdue.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from servicebook.finance import services

POOLS = [
    ("internal_labor", "IT staff", "24000"),
    ("external_labor", "Contractors", "4000"),
    ("hardware", "Servers, storage and laptops (depreciation)", "30000"),
    ("software", "Licences and subscriptions", "9500"),
    ("cloud_services", "Public cloud", "4000"),
    ("facilities_power", "Data centre space and power", "6000"),
    ("telecom", "Network and links", "2500"),
    ("outside_services", "Outsourced first-line support", "1200"),
]
HEADCOUNT = {
    "workplace": 6,
    "service-desk": 2,
    "cloud-hosting": 3,
    "consulting": 9,
    "research-computing": 2,
}
FIXED = {
    "external_labor": [("consulting", "80"), ("service-desk", "20")],
    "hardware": [
        ("workplace", "50"),
        ("cloud-hosting", "15"),
        ("research-computing", "30"),
        (None, "5"),
    ],
    "software": [("workplace", "70"), ("payroll", "20"), ("research-computing", "10")],
    "facilities_power": [
        ("cloud-hosting", "40"),
        ("research-computing", "40"),
        ("workplace", "10"),
        (None, "10"),
    ],
    "outside_services": [("service-desk", "100")],
}


def load(ctx) -> None:
    from servicebook.catalog.models import Service

    by_code = {s.code: s for s in Service.objects.all()}
    period = "2026-10"
    for category, name, amount in POOLS:
        services.set_cost_pool(
            actor=None, period=period, category=category, name=name, amount=D(amount)
        )
    services.set_driver_values(
        actor=None,
        period=period,
        driver="headcount",
        values={by_code[code]: D(n) for code, n in HEADCOUNT.items()},
    )
    services.set_allocation_rule(
        actor=None, category="internal_labor", driver="headcount", note="staff per service"
    )
    for category in ("cloud_services", "telecom", "other"):
        services.set_allocation_rule(
            actor=None, category=category, driver="usage", note="consumption at standard cost"
        )
    for category, shares in FIXED.items():
        services.set_allocation_rule(
            actor=None,
            category=category,
            driver="fixed",
            shares=[(by_code[code] if code else None, D(p)) for code, p in shares],
        )
    services.compute_service_costs(actor=None, period=period)

    today = dt.date(2026, 11, 22)
    # March: the retailer's service desk outage earned a 10% service credit (levels demo)
    services.close_period(actor=None, period="2026-03", today=today)
    services.close_period(actor=None, period="2026-09", today=today)
    from servicebook.finance.models import Invoice

    september = {inv.customer.code: inv for inv in Invoice.objects.filter(period="2026-09")}
    airline = september.get("skybridge")
    if airline is not None:
        services.record_payment(
            actor=None,
            invoice=airline,
            kind="cash",
            amount=airline.cash_amount,
            date=dt.date(2026, 10, 28),
            reference="SEPA SKY-0926",
        )
        if airline.in_kind_amount:
            services.record_payment(
                actor=None,
                invoice=airline,
                kind="in_kind",
                amount=airline.in_kind_amount,
                date=dt.date(2026, 10, 15),
                reference="4 e-tickets CDG-JFK delivered",
            )
    pacific = september.get("pacific")
    if pacific is not None:
        services.record_payment(
            actor=None,
            invoice=pacific,
            kind="cash",
            amount=pacific.cash_amount,
            date=dt.date(2026, 10, 30),
            reference="TT PAC-2609",
        )
    services.close_period(actor=None, period=period, today=today)
    october = Invoice.objects.filter(period=period, customer__code="skybridge").first()
    if october is not None and october.in_kind_amount:
        items = list(october.lines.filter(kind="in_kind"))
        if items:
            two_tickets = min(items[0].unit_price * 2, october.in_kind_amount)
            services.record_payment(
                actor=None,
                invoice=october,
                kind="in_kind",
                amount=two_tickets,
                date=dt.date(2026, 11, 12),
                reference="2 e-tickets delivered",
            )
