"""Reads for demand: the capacity competition page."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from servicebook.demand.models import CapacityNeed, CapacityPool, DemandRequest, DemandStatus
from servicebook.policy import FundingSource, policy_for

COMPETING = (DemandStatus.SUBMITTED, DemandStatus.ASSESSMENT, DemandStatus.HELD)


@dataclass
class Claim:
    """One demand's claim on a pool, with what it is worth to the business."""

    demand: DemandRequest
    quantity: Decimal
    reserved: bool
    cost: Decimal
    npv: Decimal | None

    @property
    def value_per_unit(self) -> Decimal | None:
        if self.npv is None or not self.quantity:
            return None
        return (self.npv / self.quantity).quantize(Decimal("0.01"))


@dataclass
class Competitor:
    """An internal customer competing for a pool: consumption at cost against its funding."""

    customer: object
    monthly_cost: Decimal  # consumption at cost for ``period`` (finance.consumption)
    budget: Decimal | None
    claims: list[Claim] = field(default_factory=list)
    currency: str = ""
    basis: str = ""
    unknown: tuple[str, ...] = ()
    period: str = ""

    @property
    def reserved(self) -> Decimal:
        return sum((c.quantity for c in self.claims if c.reserved), Decimal(0))

    @property
    def requested(self) -> Decimal:
        return sum((c.quantity for c in self.claims if not c.reserved), Decimal(0))

    @property
    def best_value(self) -> Decimal | None:
        values = [c.value_per_unit for c in self.claims if c.value_per_unit is not None]
        return max(values, default=None)

    @property
    def budget_share(self) -> Decimal | None:
        if not self.budget:
            return None
        return (self.monthly_cost / self.budget * 100).quantize(Decimal("0.1"))


@dataclass
class PoolView:
    pool: CapacityPool
    reserved: Decimal
    requested: Decimal
    competitors: list[Competitor]
    revenue_funded: list[Claim]

    @property
    def left(self) -> Decimal:
        return self.pool.capacity - self.reserved

    @property
    def overcommitted(self) -> bool:
        return self.requested > self.left


def capacity_competition(period: str | None = None) -> list[PoolView]:
    """Per pool: internal customers competing (ordered by business value, not by who asked
    first), each with its consumption at cost for ``period`` (default: this month; the finance
    app's one answer) and funding; revenue-funded claims apart."""
    from servicebook.finance.billing.consumption import consumption_at_cost, current_period

    needs = (
        CapacityNeed.objects.filter(demand__status__in=(*COMPETING, DemandStatus.APPROVED))
        .select_related("demand__customer__provider", "demand__business_case", "pool")
        .order_by("pool", "demand__created_at")
    )
    pools = {pool.pk: pool for pool in CapacityPool.objects.all()}
    by_pool: dict[int, list[CapacityNeed]] = {pk: [] for pk in pools}
    for need in needs:
        by_pool[need.pool_id].append(need)
    period = period or current_period()
    customers = {need.demand.customer_id: need.demand.customer for need in needs}
    monthly = consumption_at_cost(customers.values(), period)
    views = []
    for pk, pool in pools.items():
        competitors: dict[int, Competitor] = {}
        revenue_funded = []
        for need in by_pool[pk]:
            demand = need.demand
            case = getattr(demand, "business_case", None)
            claim = Claim(
                demand=demand,
                quantity=need.quantity,
                reserved=need.reserved,
                cost=need.quantity * pool.unit_cost,
                npv=case.npv if case else None,
            )
            customer = demand.customer
            if policy_for(customer).funding_source is not FundingSource.INTERNAL_BUDGET:
                revenue_funded.append(claim)
                continue
            competitor = competitors.setdefault(
                customer.pk,
                Competitor(
                    customer=customer,
                    monthly_cost=monthly[customer.pk].amount,
                    budget=customer.budget_per_period,
                    currency=monthly[customer.pk].currency,
                    basis=monthly[customer.pk].basis,
                    unknown=monthly[customer.pk].unknown,
                    period=period,
                ),
            )
            competitor.claims.append(claim)
        for competitor in competitors.values():
            competitor.claims.sort(
                key=lambda c: (c.value_per_unit is None, -(c.value_per_unit or 0))
            )
        ordered = sorted(
            competitors.values(),
            key=lambda c: (c.best_value is None, -(c.best_value or 0), c.customer.name),
        )
        reserved = sum((n.quantity for n in by_pool[pk] if n.reserved), Decimal(0))
        requested = sum((n.quantity for n in by_pool[pk] if not n.reserved), Decimal(0))
        views.append(PoolView(pool, reserved, requested, ordered, revenue_funded))
    return views
