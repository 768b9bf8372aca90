"""Reads of costing: the units subscribed in a month, service and unit costs, a contract's price
floor (R6), and the months the costs page offers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.catalog.models import Offering
from servicebook.core.money import round_money
from servicebook.core.periods import period_dates
from servicebook.finance.costing.models import CostPool, PriceFloorOverride, ServiceCost, UnitCost
from servicebook.finance.fx.selectors import MissingRate, rate_on
from servicebook.finance.ledger.models import Period, PeriodStatus
from servicebook.policy import policy_for


def subscribed_units(period: str) -> dict[int, Decimal]:
    """Units of each offering subscribed under agreements in force during the period."""
    first, last = period_dates(period)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    rows = AgreementLine.objects.filter(
        agreement__status=AgreementStatus.ACTIVE,
        agreement__start_date__lte=last,
    ).exclude(agreement__end_date__lt=first)
    for offering_id, quantity in rows.values_list("offering_id", "quantity"):
        totals[offering_id] += quantity
    return totals


def unit_cost_with_currency(offering: Offering) -> tuple[Decimal | None, str]:
    """The latest computed unit cost of an offering (in its period's currency), else its
    standard unit cost (in the offering's currency)."""
    latest = (
        UnitCost.objects.filter(offering=offering)
        .order_by("-period")
        .values("unit_cost", "currency")
        .first()
    )
    if latest:
        return latest["unit_cost"], latest["currency"]
    return offering.standard_unit_cost, offering.currency


def check_price_floor(agreement: Agreement, *, on: dt.date | None = None) -> list[str]:
    """R6: why a commercial provider's contract cannot be activated (empty list: it can).

    A line whose monthly price is below its monthly cost blocks activation unless a finance user
    recorded an override with a reason. A line priced in another currency than its cost is
    compared in the cost's (base) currency at the latest exchange rate on or before ``on``
    (today by default; decision 0025); without a rate it blocks activation with a message naming
    the pair and the day (an override accepts it). Internal agreements (charged at cost) and
    non-commercial providers (who may cover cost partly) are not checked. Messages are for
    provider staff only.
    """
    policy = policy_for(agreement.customer)
    provider = agreement.customer.provider
    if not policy.charged_at_price or provider.sector != "commercial":
        return []
    on = on or timezone.localdate()
    overridden = set(
        PriceFloorOverride.objects.filter(agreement=agreement).values_list("offering_id", flat=True)
    )
    problems = []
    for line in agreement.lines.select_related("offering__service").prefetch_related(
        "offering__tiers"
    ):
        unit_cost, cost_currency = unit_cost_with_currency(line.offering)
        if unit_cost is None or line.offering_id in overridden:
            continue
        price = line.monthly_price()
        compared = f"{agreement.currency} {price}"
        if cost_currency != agreement.currency:
            try:
                rate = rate_on(cost_currency, agreement.currency, on)
            except MissingRate as missing:
                problems.append(
                    f"{line.offering}: its cost is in {cost_currency} and the contract is priced "
                    f"in {agreement.currency}: {missing.message}; or a finance user must record "
                    "an override"
                )
                continue
            price = rate.to_base(price)
            compared += f" = {cost_currency} {price} at {rate.describe()}"
        cost = round_money(line.quantity * unit_cost, cost_currency)
        if price < cost:
            problems.append(
                f"{line.offering}: priced {compared} a month, below its cost "
                f"{cost_currency} {cost}; a finance user must record an override"
            )
    return problems


def service_costs(period: str) -> list[dict]:
    rows = ServiceCost.objects.filter(period=period).select_related("service")
    return [
        {
            "service": r.service.name if r.service else "Shared and idle capacity",
            "allocated": r.allocated,
            "idle": r.idle,
            "total": r.total,
            "currency": r.currency,
            "breakdown": r.breakdown,
        }
        for r in rows
    ]


def unit_costs(period: str) -> list[dict]:
    rows = UnitCost.objects.filter(period=period).select_related("offering__service")
    return [
        {
            "service": r.offering.service.name,
            "offering": r.offering.name,
            "unit": r.offering.get_unit_display(),
            "quantity": r.quantity,
            "cost": r.cost,
            "unit_cost": r.unit_cost,
            "standard_unit_cost": r.offering.standard_unit_cost,
            "currency": r.currency,
        }
        for r in rows
    ]


def cost_periods() -> list[str]:
    """Months with cost pools, and the closed months (their unit costs charged), newest first."""
    found = set(CostPool.objects.values_list("period", flat=True).distinct())
    found |= set(Period.objects.filter(status=PeriodStatus.CLOSED).values_list("period", flat=True))
    return sorted(found, reverse=True)


def default_cost_period() -> str | None:
    """The month the costs page opens on: the latest closed one, else the latest with costs."""
    closed = Period.objects.filter(status=PeriodStatus.CLOSED).order_by("-period").first()
    if closed:
        return closed.period
    periods = cost_periods()
    return periods[0] if periods else None
