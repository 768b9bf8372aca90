"""Reads of billing: the finance reports (R4-R8), aging, and the charges a user may see.

Every report works on closed documents of one period, so its figures are the figures that were
posted. Revenue, cost and margin of external customers are for provider staff only (R7).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Q, Sum

from servicebook.core.money import allocate_amount, quantum
from servicebook.finance.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Statement,
    StatementLine,
)
from servicebook.finance.costing import selectors as costing_selectors
from servicebook.finance.costing.models import CAPACITY_CATEGORIES, CostPool
from servicebook.finance.fx.selectors import Rate
from servicebook.finance.ledger.models import Period, PeriodStatus
from servicebook.parties.models import FundingModel, Provider, money_field

ZERO = Decimal("0.00")


def report_periods() -> list[str]:
    """Periods that have documents, newest first."""
    # .order_by(): the models' default ordering would add its columns to the DISTINCT (issue 14:
    # every one of 100,000 documents came back)
    found = set(Statement.objects.order_by().values_list("period", flat=True).distinct())
    found |= set(Invoice.objects.order_by().values_list("period", flat=True).distinct())
    found |= set(CostPool.objects.order_by().values_list("period", flat=True).distinct())
    return sorted(found, reverse=True)


def default_period() -> str | None:
    closed = Period.objects.filter(status=PeriodStatus.CLOSED).order_by("-period").first()
    if closed:
        return closed.period
    periods = report_periods()
    return periods[0] if periods else None


def cost_recovery(period: str, *, first: int | None = None) -> list[dict]:
    """R4/R5: per internal customer and service, the cost consumed, what was charged, and how
    much of it was recovered from the customer's cost centre; ``first``: of that many statements
    only, by customer name (a page shows a few, the CSV all)."""
    fields = ("pk", "customer_id", "customer__name", "funding_model", "currency", "recovered")
    # plain values by customer name, not statement and customer models (issue 14)
    statements = list(
        Statement.objects.filter(period=period)
        .order_by("customer__name", "pk")
        .values(*fields)[:first]
    )
    lines = StatementLine.objects.filter(statement__period=period)
    if first is not None:
        lines = lines.filter(statement_id__in=[st["pk"] for st in statements])
    grouped: dict[tuple[int, int], dict] = {}
    rows = (
        lines.values("statement_id", "service_id", "service__name")
        .annotate(cost=Sum("cost"), charge=Sum("charge"))
        .order_by("statement_id", "service__name")
    )
    for row in rows:
        grouped[(row["statement_id"], row["service_id"])] = row
    by_statement: dict[int, list[dict]] = defaultdict(list)  # not a scan per statement
    for (st_id, _service), row in grouped.items():
        by_statement[st_id].append(row)
    result = []
    for st in statements:
        lines = by_statement.get(st["pk"], [])
        charges = [row["charge"] for row in lines]
        recovered = (
            allocate_amount(st["recovered"], charges, quantum(st["currency"]))
            if lines and st["recovered"]
            else [ZERO] * len(lines)
        )
        for row, rec in zip(lines, recovered, strict=True):
            result.append(
                {
                    "customer": st["customer__name"],
                    "customer_id": st["customer_id"],
                    "funding_model": st["funding_model"],
                    "service": row["service__name"],
                    "currency": st["currency"],
                    "cost": row["cost"],
                    "charge": row["charge"],
                    "recovered": rec,
                    "not_recovered": row["charge"] - rec,
                }
            )
    return result


def funding(period: str, *, first: int | None = None) -> list[dict]:
    """R4/R19: each internal customer's consumption at cost against its funding (budget), by
    customer name; ``first``: only that many (a page shows a few, the CSV has them all)."""
    from servicebook.finance.billing.consumption import consumption_at_cost

    result = []
    statements = Statement.objects.filter(period=period).select_related("customer__provider")
    statements = list(statements.order_by("customer__name", "pk")[:first])
    consumed = consumption_at_cost({st.customer for st in statements}, period)
    for st in statements:
        budget = st.budget
        result.append(
            {
                "customer": st.customer.name,
                "customer_id": st.customer_id,
                "funding_model": st.funding_model,
                "currency": st.currency,
                "consumption_at_cost": consumed[st.customer_id].amount,
                "consumption_basis": consumed[st.customer_id].basis,
                "charged": st.total_charge,
                "recovered": st.recovered,
                "covered_centrally": st.total_charge - st.recovered,
                "budget": budget,
                "over_budget": None if budget is None else st.total_cost - budget,
            }
        )
    return sorted(result, key=lambda r: r["customer"])


def uncovered_cost(period: str, *, first: int | None = None) -> list[dict]:
    """R5: under partial recovery, the share recovered and the uncovered share (subsidy);
    ``first``: only that many."""
    result = []
    for st in Statement.objects.filter(
        period=period, funding_model=FundingModel.PARTIAL_RECOVERY
    ).select_related("customer")[:first]:
        result.append(
            {
                "customer": st.customer.name,
                "customer_id": st.customer_id,
                "currency": st.currency,
                "charged": st.total_charge,
                "recovered": st.recovered,
                "uncovered": st.uncovered,
            }
        )
    return result


def _in_base(amount: Decimal | None, rate: Decimal, base: str) -> Decimal | None:
    """A document's amount in the base currency at the rate it was issued at (decision 0025):
    1 base = ``rate`` of the document's currency (``fx.Rate.to_base``)."""
    return None if amount is None else Rate(base, "", rate or Decimal(1)).to_base(amount)


def external_margin(period: str, *, first: int | None = None) -> list[dict]:
    """R6 (staff only): revenue, cost and margin per external customer and service, in the
    invoice's currency and in the provider's base currency at each invoice's rate; ``first``:
    only that many rows."""
    base = Provider.current().base_currency
    rows = (
        InvoiceLine.objects.filter(invoice__period=period, kind__in=["subscription", "usage"])
        .values(
            "invoice__customer_id",
            "invoice__customer__name",
            "service__name",
            "invoice__currency",
            "invoice__exchange_rate",
        )
        .annotate(revenue=Sum("amount"), cost=Sum("cost"))
        .order_by("invoice__customer__name", "service__name")
    )
    result = []
    for row in rows[:first]:
        cost, rate = row["cost"], row["invoice__exchange_rate"]
        base_revenue, base_cost = _in_base(row["revenue"], rate, base), _in_base(cost, rate, base)
        result.append(
            {
                "customer": row["invoice__customer__name"],
                "customer_id": row["invoice__customer_id"],
                "service": row["service__name"],
                "currency": row["invoice__currency"],
                "revenue": row["revenue"],
                "cost": cost,
                "margin": None if cost is None else row["revenue"] - cost,
                "margin_percent": None
                if cost is None or not row["revenue"]
                else ((row["revenue"] - cost) * 100 / row["revenue"]).quantize(Decimal("0.1")),
                "base_currency": base,
                "exchange_rate": rate,
                "base_revenue": base_revenue,
                "base_cost": base_cost,
                "base_margin": None if base_cost is None else base_revenue - base_cost,
            }
        )
    return result


def mixed_currencies(what: str, currencies) -> str:
    """R6: the refusal when amounts of several currencies would be added or compared."""
    names = " and ".join(sorted(set(currencies)))
    return (
        f"{what} are in {names}: amounts in different currencies are never added or compared "
        "without an exchange rate (cost pools are entered in the base currency)"
    )


def revenue_vs_capacity(period: str, *, per_customer: bool = True) -> dict:
    """R8: external revenue against the capacity spend (staff and technology) it funds.

    Per customer: invoiced revenue (the invoices' totals) and the cost of what was invoiced, in
    the invoice's currency and in the base currency at the invoice's rate; then the period's
    revenue, in the base currency, against its capacity cost pools, as the share of capacity
    spend funded by external revenue. Cost pools in another currency are never added or
    compared (R6): then ``refused`` says why there is no share. ``per_customer=False``: the
    same totals without the rows (a dashboard's figure, issue 14: 5,000 rows it never shows).
    """
    base = Provider.current().base_currency
    grouped = Invoice.objects.filter(period=period)
    if per_customer:
        grouped = grouped.values("customer_id", "customer__name", "currency", "exchange_rate")
        grouped = grouped.order_by("customer__name", "currency")
    else:  # the same groups (each converted at its own rate), not named nor ordered
        grouped = grouped.values("customer_id", "currency", "exchange_rate").order_by()
    rows = []
    revenue_by: dict[str, Decimal] = defaultdict(Decimal)
    for row in grouped.annotate(revenue=Sum("total"), cost=Sum("cost")):
        rate = row["exchange_rate"]
        base_revenue = _in_base(row["revenue"], rate, base)
        revenue_by[base] += base_revenue  # each invoice at its own rate (decision 0025)
        if not per_customer:
            continue
        rows.append(
            {
                "customer": row["customer__name"],
                "currency": row["currency"],
                "revenue": row["revenue"],
                "capacity_cost": row["cost"],
                "contribution": None if row["cost"] is None else row["revenue"] - row["cost"],
                "base_revenue": base_revenue,
                "base_capacity_cost": _in_base(row["cost"], rate, base),
            }
        )
    spend_by = {
        row["currency"]: row["total"]
        for row in CostPool.objects.filter(period=period, category__in=CAPACITY_CATEGORIES)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    }
    currencies = set(revenue_by) | set(spend_by)
    result = {
        "period": period,
        **({"rows": rows} if per_customer else {}),
        "currency": "",
        "external_revenue": None,
        "capacity_spend": None,
        "funded_percent": None,
        "revenue_by_currency": dict(revenue_by),
        "capacity_spend_by_currency": spend_by,
        "refused": "",
    }
    if len(currencies) > 1:
        result["refused"] = mixed_currencies("External revenue and capacity spend", currencies)
        return result
    currency = next(iter(currencies), "")
    revenue = revenue_by.get(currency, ZERO)
    spend = spend_by.get(currency)
    result.update(
        currency=currency,
        external_revenue=revenue,
        capacity_spend=spend,
        funded_percent=None if not spend else (revenue * 100 / spend).quantize(Decimal("0.1")),
    )
    return result


#: the receivables' age buckets: (label, most days overdue; None: no bound)
AGE_BUCKETS = (("current", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90), ("90+", None))


def aging(invoices, today: dt.date) -> dict:
    """Outstanding amounts by days overdue: current, 1-30, 31-60, 61-90, over 90 (one grouped
    query: issue 14, 50,000 open invoices were loaded one by one)."""
    outstanding = (
        F("cash_amount")
        - F("paid_cash")
        - F("credited")
        + F("in_kind_amount")
        - F("delivered_in_kind")
    )
    sums, fewest = {}, None
    for label, most in AGE_BUCKETS:
        # days overdue = today - due date: at most ``most`` days ⇔ due on or after today - most
        window = Q()
        if most is not None:
            window &= Q(due_date__gte=today - dt.timedelta(days=most))
        if fewest is not None:
            window &= Q(due_date__lt=today - dt.timedelta(days=fewest))
        sums[label] = Sum(outstanding, filter=window, output_field=money_field())
        fewest = most
    found = invoices.exclude(status=InvoiceStatus.PAID).order_by().aggregate(**sums)
    return {label: found[label] or ZERO for label, _most in AGE_BUCKETS}


def overdue(invoices, today: dt.date):
    return invoices.exclude(status=InvoiceStatus.PAID).filter(due_date__lt=today)


# --- the charges a user may see ------------------------------------------------------------------


def charged_periods(user) -> list[str]:
    """Periods with statements or invoices the user may see, newest first."""
    statements = Statement.objects.visible_to(user).order_by()
    invoices = Invoice.objects.visible_to(user).order_by()
    found = set(statements.values_list("period", flat=True).distinct())
    found |= set(invoices.values_list("period", flat=True).distinct())
    return sorted(found, reverse=True)


def charge_rows(user, period: str, customer_id: int | None = None) -> list[dict]:
    """What each customer the user may see was charged in ``period``: statement and invoice
    charge lines (in-kind lines settle an invoice, they are not charges), prices only."""
    lines = StatementLine.objects.visible_to(user)
    invoice_lines = InvoiceLine.objects.visible_to(user)
    if customer_id is not None:
        lines = lines.filter(statement__customer_id=customer_id)
        invoice_lines = invoice_lines.filter(invoice__customer_id=customer_id)
    return _charge_rows(lines, invoice_lines, period)


def customer_charge_rows(customer, period: str) -> list[dict]:
    """:func:`charge_rows` of one customer (the command line's ``export focus --customer``)."""
    return _charge_rows(
        StatementLine.objects.scope_for_customer(customer),
        InvoiceLine.objects.scope_for_customer(customer),
        period,
    )


def _charge_rows(lines, invoice_lines, period: str) -> list[dict]:
    from servicebook.finance.usage.focus import derived_unit_price

    rows: list[dict] = []
    lines = (
        lines.filter(statement__period=period)
        .select_related("statement__customer", "service", "offering")
        .order_by("statement__customer__code", "pk")
    )
    invoice_lines = (
        invoice_lines.filter(invoice__period=period)
        .exclude(kind="in_kind")
        .select_related("invoice__customer", "service", "offering")
        .order_by("invoice__customer__code", "invoice__number", "pk")
    )
    for line in lines:
        customer = line.statement.customer
        rows.append(
            {
                "customer_code": customer.code,
                "customer_name": customer.name,
                "period": period,
                "currency": line.statement.currency,
                "kind": line.source if line.source in ("usage", "focus") else "subscription",
                "description": line.description,
                "service": line.service.name,
                "offering": line.offering.code,
                "unit": line.offering.unit,
                "quantity": line.quantity,
                "unit_price": derived_unit_price(line.charge, line.quantity),
                "amount": line.charge,
                "invoice": None,  # a statement is an internal transfer, not an invoice (R2)
            }
        )
    for line in invoice_lines:
        customer = line.invoice.customer
        offering = line.offering
        rows.append(
            {
                "customer_code": customer.code,
                "customer_name": customer.name,
                "period": period,
                "currency": line.invoice.currency,
                "kind": line.kind,
                "description": line.description,
                "service": line.service.name if line.service else "",
                "offering": offering.code if offering else None,
                "unit": offering.unit if offering else None,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "invoice": line.invoice.number,
                "steps": line.breakdown or [],
                "charge_model": offering.charge_model if offering else "",
                "package_size": offering.package_size if offering else None,
            }
        )
    return rows


#: the FOCUS version of the exports (``usage.focus.conform.FOCUS_VERSION``)
FOCUS_VERSION = "1.2"


def focus_export(user, period: str, fmt: str, customer_id: int | None = None) -> bytes:
    """The FOCUS 1.2 dataset of the charges the user may see in ``period`` (CSV or Parquet):
    what the page and the API download."""
    return focus_file(charge_rows(user, period, customer_id), fmt)


def focus_file(rows: list[dict], fmt: str) -> bytes:
    """Charge rows (:func:`charge_rows`) as a FOCUS 1.2 file: the one writer of the page, the API
    and ``servicebook export focus``."""
    from servicebook.finance.usage import focus
    from servicebook.parties.models import Provider

    provider = Provider.current()
    table = focus.documents_to_focus(rows, provider=provider.name if provider else "")
    return focus.focus_bytes(table, fmt)


#: The finance reports by name (``/api/finance-reports/<name>/``, ``/finance/reports/<name>.csv``);
#: the margin reports are for finance and the admin only (``billing.access.MARGIN_REPORTS``).
REPORTS = {
    "cost-recovery": cost_recovery,
    "funding": funding,
    "uncovered-cost": uncovered_cost,
    "external-margin": external_margin,
    "revenue-capacity": revenue_vs_capacity,
    "service-costs": costing_selectors.service_costs,
    "unit-costs": costing_selectors.unit_costs,
}
