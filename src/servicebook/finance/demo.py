"""Demo: October 2026 costs allocated to services, and two closed months.

- Cost pools of 2026-10 in the TBM taxonomy with allocation rules (fixed percentages, headcount,
  metered usage) give each service's cost and each offering's unit cost.
- 2026-09 and 2026-10 are closed: internal statements at cost (chargeback, showback, central
  allocation), the airline's invoices split into cash and air tickets. 2026-03 is closed too:
  the retailer's March invoice carries the service credit its outage earned (levels demo).
- Payments: the airline paid September in cash and tickets and has delivered two of October's
  four tickets; Pacific paid; the retailer's September invoice is overdue.
- Usage at scale: a month of metered usage (October 2026: Marketing's VM hours, R&D's secure
  node hours, block storage) in the usage store, with three bad rows in its rejects file; and the
  FinOps Foundation's FOCUS 1.0 sample replayed as Northwind's October cloud bill, allocated to
  the internal customers by the ``business_unit`` tag, on their October statements.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from servicebook.core.periods import next_period
from servicebook.finance.billing import credit_notes, services, tax
from servicebook.finance.billing.models import Invoice
from servicebook.finance.costing import services as costing
from servicebook.finance.usage import services as usage

USAGE_PERIOD = "2026-10"
#: business_unit tag values of the FOCUS sample → internal customers of the demo
BUSINESS_UNITS = {
    "PeoriaData": "rnd",
    "TempeAI": "rnd",
    "LipaData": "marketing",
    "LexingtonFinance": "finance",
    "PhiladelphiaArchitecture": "hr",
}
#: the airline's partial credit note (excluding tax)
CREDITED_DAY = D("900.00")
#: USD → EUR for the demo's cloud bill
DEMO_EXCHANGE_RATE = D("0.92")

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
    period = "2026-10"
    _costs(period)
    load_usage(ctx)
    # the home country's VAT rates (a fresh `servicebook init` seeds them the same way)
    tax.seed_rates(ctx.provider.country or "FR")
    # each month closed on its first day after (its invoices issued then, as they were)
    # March: the retailer's service desk outage earned a 10% service credit (levels demo)
    services.close_period(actor=None, period="2026-03", today=dt.date(2026, 4, 1))
    services.close_period(actor=None, period="2026-09", today=dt.date(2026, 10, 1))
    _september_payments()
    services.close_period(actor=None, period=period, today=dt.date(2026, 11, 1))
    _october_tickets(period)
    _credit_note(period)


def _credit_note(period: str) -> None:
    """One consulting day of the airline's October invoice was not delivered: a partial credit
    note, with French VAT, posted in November (October is closed)."""
    october = Invoice.objects.filter(period=period, customer__code="skybridge").first()
    if october is not None and october.creditable >= CREDITED_DAY:
        credit_notes.issue_credit_note(
            actor=None,
            invoice=october,
            amount=CREDITED_DAY,
            reason="One consulting day of October was cancelled by the provider.",
            date=dt.date(2026, 11, 20),
        )


def _costs(period: str) -> None:
    """The month's cost pools, driver values and allocation rules; service and unit costs."""
    from servicebook.catalog.models import Service

    by_code = {s.code: s for s in Service.objects.all()}
    for category, name, amount in POOLS:
        costing.set_cost_pool(
            actor=None, period=period, category=category, name=name, amount=D(amount)
        )
    costing.set_driver_values(
        actor=None,
        period=period,
        driver="headcount",
        values={by_code[code]: D(n) for code, n in HEADCOUNT.items()},
    )
    costing.set_allocation_rule(
        actor=None, category="internal_labor", driver="headcount", note="staff per service"
    )
    for category in ("cloud_services", "telecom", "other"):
        costing.set_allocation_rule(
            actor=None, category=category, driver="usage", note="consumption at standard cost"
        )
    for category, shares in FIXED.items():
        costing.set_allocation_rule(
            actor=None,
            category=category,
            driver="fixed",
            shares=[(by_code[code] if code else None, D(p)) for code, p in shares],
        )
    costing.compute_service_costs(actor=None, period=period)


def _september_payments() -> None:
    """The airline paid September in cash and tickets; Pacific paid; the retailer did not."""
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


def _october_tickets(period: str) -> None:
    """The airline has delivered two of October's four tickets."""
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


# --- usage at scale -------------------------------------------------------------------------------


def _demo_dir():
    from pathlib import Path

    from django.conf import settings

    path = Path(settings.VAR_DIR) / "demo"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _metered_csv(ctx) -> str:
    """October 2026 meter readings: hourly VMs and secure nodes, daily storage; 3 bad rows."""
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    hours = 31 * 24
    tag = ctx.provider.pk
    rows = ["record_id,customer,offering,quantity,unit,start_time,end_time,source,tags"]

    def add(rid, customer, offering, quantity, unit, begin, end, tags=""):
        rows.append(
            f"{rid},{customer},{offering},{quantity},{unit},"
            f"{begin:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ},demo-meter,{tags}"
        )

    for vm in range(6):  # Marketing: six VMs, all month
        for h in range(hours):
            at = start + dt.timedelta(hours=h)
            add(
                f"d{tag}-vm{vm}-{h}",
                "marketing",
                "vm-hour",
                "1",
                "vm_hour",
                at,
                at + dt.timedelta(hours=1),
                '"{""env"": ""prod""}"' if vm < 4 else "",
            )
    for node in range(8):  # R&D: eight secure nodes, busy 10 to 100 % of each hour
        for h in range(hours):
            at = start + dt.timedelta(hours=h)
            busy = D(10 + (node * 37 + h * 11) % 91) / 100
            add(
                f"d{tag}-hpc{node}-{h}",
                "rnd",
                "hpc-node-hour",
                f"{busy}",
                "vm_hour",
                at,
                at + dt.timedelta(hours=1),
            )
    for day in range(31):  # daily block storage snapshots, in GB-months
        at = start + dt.timedelta(days=day)
        for customer, gb in (("marketing", 1240), ("rnd", 9300), ("hr", 310)):
            quantity = (D(gb) / 31).quantize(D("0.000001"))
            add(
                f"d{tag}-st-{customer}-{day}",
                customer,
                "storage-gb",
                quantity,
                "gb_month",
                at,
                at + dt.timedelta(days=1),
            )
    at = start + dt.timedelta(days=3)
    add(f"d{tag}-bad-1", "nobody", "vm-hour", "1", "vm_hour", at, at + dt.timedelta(hours=1))
    add(f"d{tag}-bad-2", "marketing", "vm-hour", "-2", "vm_hour", at, at + dt.timedelta(hours=1))
    add(f"d{tag}-bad-3", "rnd", "hpc-node-hour", "lots", "vm_hour", at, at)
    return "\n".join(rows) + "\n"


def focus_sample_path():
    """The FOCUS 1.0 sample (1,000 rows, CC BY 4.0) shipped inside the package (data/focus-1.0)."""
    from pathlib import Path

    sample = Path(__file__).resolve().parent / "data" / "focus-1.0" / "focus_sample.csv"
    return sample if sample.is_file() else None


def _replay_in(source, period: str):
    """The FOCUS sample (September 2024) moved to ``period``, written next to the demo data."""
    import csv

    nxt = next_period(period)
    columns = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
    target = _demo_dir() / f"focus-{period}.csv"
    with (
        source.open(newline="", encoding="utf-8-sig") as fh,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(fh)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        for row in reader:
            for name in columns & set(row):
                row[name] = (
                    row[name].replace("2024-10-", f"{nxt}-").replace("2024-09-", f"{period}-")
                )
            writer.writerow(row)
    return target


def load_usage(ctx) -> None:
    from servicebook.catalog import services as catalog

    hosting = ctx.offerings["vm"].service
    cloud = catalog.create_service(
        actor=None,
        established=True,
        provider=ctx.provider,
        code="public-cloud",
        name="Public Cloud (FinOps)",
        description="AWS, Azure and Oracle Cloud bought centrally, passed on at cost by tag.",
        status="live",
        offered_to="internal",
        data_locations=list(hosting.data_locations),
    )
    catalog.create_offering(
        actor=None,
        service=cloud,
        code=usage.DEFAULT_FOCUS_OFFERING,
        name="Cloud consumption at cost",
        unit="month",
        charge_model="per_unit",
        list_price=D(0),
        currency=ctx.provider.base_currency,
        standard_unit_cost=D(0),
    )
    for value, key in BUSINESS_UNITS.items():
        usage.set_cloud_mapping(
            actor=None,
            key="tag",
            tag_key="business_unit",
            value=value,
            customer=ctx.customers[key],
            note="demo: business unit of the FOCUS sample",
        )
    metered = _demo_dir() / f"usage-{USAGE_PERIOD}-{ctx.provider.pk}.csv"
    metered.write_text(_metered_csv(ctx), encoding="utf-8")
    usage.import_usage(
        actor=None, path=metered, format="csv", period=USAGE_PERIOD, source="demo meters"
    )
    sample = focus_sample_path()
    if sample is None:
        print("demo: FOCUS sample not found; the cloud bill step is skipped")
        return
    usage.import_usage(
        actor=None,
        path=_replay_in(sample, USAGE_PERIOD),
        format="focus",
        cost_basis="BilledCost",
        shared_mode="spread",
        exchange_rate=DEMO_EXCHANGE_RATE,
        source="FOCUS 1.0 sample (FinOps Foundation, CC BY 4.0), replayed",
    )
