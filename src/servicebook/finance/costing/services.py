"""Every write of costing: cost pools, allocation rules, driver values, the computation of service
and unit costs, and the price-floor overrides of commercial contracts."""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from servicebook.agreements.models import Agreement, AgreementLine
from servicebook.catalog.models import Offering, Service
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.money import to_decimal
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.finance.costing import allocation
from servicebook.finance.costing.models import (
    AllocationRule,
    AllocationShare,
    CostCategory,
    CostPool,
    Driver,
    DriverValue,
    PriceFloorOverride,
    ServiceCost,
    UnitCost,
)
from servicebook.finance.costing.selectors import subscribed_units
from servicebook.finance.ledger.models import Period, PeriodStatus
from servicebook.finance.ledger.periods import check_period, open_period_row
from servicebook.finance.ledger.services import FINANCE
from servicebook.finance.ledger.workflows import PERIOD
from servicebook.parties.models import Provider

#: who may record costs, allocation rules and driver values
COST_EDITORS = (Role.FINANCE, Role.PROVIDER_ADMIN)


def _require_costs_open(period: str) -> None:
    if Period.objects.filter(period=period, status=PeriodStatus.CLOSED).exists():
        raise DomainError(
            f"period {period} is closed: its costs can no longer change", code="period_closed"
        )


@transaction.atomic
def set_cost_pool(
    *,
    actor: User | None,
    period: str,
    category: str,
    name: str,
    amount: Decimal | str,
    currency: str | None = None,
    source: str = "ui",
) -> CostPool:
    """Record (or replace) the amount of one cost pool in one period."""
    require_role(actor, *COST_EDITORS, action="Recording a cost pool")
    check_period(period)
    _require_costs_open(period)
    amount = to_decimal(amount)
    currency = currency or Provider.current().base_currency
    pool = CostPool.objects.filter(period=period, category=category, name=name).first()
    pool = pool or CostPool(period=period, category=category, name=name)
    pool.amount = amount
    pool.currency = currency
    pool.source = source
    save_validated(pool)
    return pool


@transaction.atomic
def import_cost_pools(*, actor: User | None, text: str, period: str | None = None) -> dict:
    """Import cost pools from CSV (columns period, category, name, amount[, currency]).

    Rows with an error are rejected with their row number and reason; the others are imported.
    ``read = imported + rejected``, always.
    """
    require_role(actor, *COST_EDITORS, action="Importing cost pools")
    base = Provider.current().base_currency
    reader = csv.DictReader(io.StringIO(text))
    needed = {"category", "name", "amount"} | (set() if period else {"period"})
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise DomainError(f"the CSV lacks the column(s): {', '.join(sorted(missing))}")
    read, imported, rejected = 0, 0, []
    for number, row in enumerate(reader, start=1):
        read += 1
        row_period = (row.get("period") or period or "").strip()
        try:
            if period and row.get("period") and row["period"].strip() != period:
                raise ValueError(f"period {row['period']} is not {period}")
            with transaction.atomic():
                set_cost_pool(
                    actor=actor,
                    period=row_period,
                    category=(row.get("category") or "").strip(),
                    name=(row.get("name") or "").strip(),
                    amount=(row.get("amount") or "").strip(),
                    currency=(row.get("currency") or "").strip() or base,
                    source="csv",
                )
            imported += 1
        except (ValueError, ValidationError, DomainError) as error:
            rejected.append({"row": number, "reason": _reason(error)})
    return {"read": read, "imported": imported, "rejected": len(rejected), "rejects": rejected}


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


@transaction.atomic
def set_allocation_rule(
    *,
    actor: User | None,
    category: str,
    driver: str,
    shares: list[tuple[Service | None, Decimal | str]] | None = None,
    note: str = "",
) -> AllocationRule:
    """Say how a TBM category reaches services: fixed percentages (summing to 100) or a driver."""
    require_role(actor, *COST_EDITORS, action="Setting an allocation rule")
    if category not in CostCategory.values:
        raise DomainError(f"unknown cost category {category!r}", field="category")
    if driver not in Driver.values:
        raise DomainError(f"unknown driver {driver!r}", field="driver")
    shares = [(service, to_decimal(percent)) for service, percent in (shares or [])]
    if driver == Driver.FIXED:
        total = sum((p for _, p in shares), Decimal(0))
        if total != 100:
            raise DomainError(
                f"fixed percentages must sum to 100, these sum to {total}", field="shares"
            )
    elif shares:
        raise DomainError("only a fixed rule has percentages", field="shares")
    rule = AllocationRule.objects.filter(category=category).first() or AllocationRule(
        category=category
    )
    rule.driver = driver
    rule.note = note
    save_validated(rule)
    rule.shares.all().delete()
    for service, percent in shares:
        save_validated(AllocationShare(rule=rule, service=service, percent=percent))
    return rule


@transaction.atomic
def set_driver_values(
    *, actor: User | None, period: str, driver: str, values: dict[Service, Decimal | str]
) -> int:
    """Record a driver's measure per service for a period (headcount, tickets, usage)."""
    require_role(actor, *COST_EDITORS, action="Recording driver values")
    check_period(period)
    if driver == Driver.FIXED or driver not in Driver.values:
        raise DomainError(f"{driver!r} is not a measured driver", field="driver")
    DriverValue.objects.filter(period=period, driver=driver).delete()
    for service, quantity in values.items():
        save_validated(
            DriverValue(
                period=period, driver=driver, service=service, quantity=to_decimal(quantity)
            )
        )
    return len(values)


def idle_capacity_mode() -> str:
    """``separate`` (default) or ``spread``: setting SERVICEBOOK_IDLE_CAPACITY or the env."""
    mode = getattr(settings, "SERVICEBOOK_IDLE_CAPACITY", None) or os.environ.get(
        "SERVICEBOOK_IDLE_CAPACITY", "separate"
    )
    if mode not in ("separate", "spread"):
        raise DomainError(f"SERVICEBOOK_IDLE_CAPACITY must be separate or spread, not {mode!r}")
    return mode


@transaction.atomic
def compute_service_costs(*, actor: User | None, period: str) -> dict:
    """Allocate the period's cost pools to services and derive unit costs per offering."""
    require_role(actor, *COST_EDITORS, action="Computing service costs")
    check_period(period)
    _require_costs_open(period)
    currency = Provider.current().base_currency
    pools = list(CostPool.objects.filter(period=period))
    if not pools:
        raise DomainError(f"no cost pools recorded for {period}", code="no_pools")
    if any(p.currency != currency for p in pools):
        raise DomainError(f"cost pools must be in the base currency {currency}")
    used = subscribed_units(period)
    offerings = {
        o.pk: o for o in Offering.objects.filter(pk__in=list(used)).select_related("service")
    }
    rules, drivers = _allocation_inputs(period, used, offerings)
    try:
        allocated = allocation.allocate_pools(
            [(p.category, p.amount) for p in pools], rules, drivers, currency
        )
    except allocation.AllocationError as error:
        raise DomainError(str(error), code="allocation") from None
    mode = idle_capacity_mode()
    spread = allocation.spread_idle(allocated, currency) if mode == "spread" else {}
    service_rows, unit_rows = _cost_rows(period, currency, allocated, spread, used, offerings)
    ServiceCost.objects.filter(period=period).delete()
    UnitCost.objects.filter(period=period).delete()
    ServiceCost.objects.bulk_create(service_rows)
    UnitCost.objects.bulk_create(unit_rows)
    row = open_period_row(period)
    total = sum((p.amount for p in pools), Decimal(0))
    PERIOD.record(
        row,
        actor,
        "costs_computed",
        note=f"{len(pools)} pools, {currency} {total}, idle capacity {mode}",
    )
    return {
        "period": period,
        "pools": len(pools),
        "total": str(total),
        "services": len(service_rows),
        "unit_costs": len(unit_rows),
        "idle_capacity": mode,
    }


def _allocation_inputs(period: str, used: dict[int, Decimal], offerings: dict) -> tuple:
    """The rules (category: (driver, shares)) and the period's driver values (driver: service:
    quantity); without recorded usage values, usage is the units subscribed at standard cost."""
    rules = {
        rule.category: (rule.driver, [(s.service_id, s.percent) for s in rule.shares.all()])
        for rule in AllocationRule.objects.prefetch_related("shares")
    }
    drivers: dict[str, dict[int, Decimal]] = defaultdict(dict)
    for value in DriverValue.objects.filter(period=period):
        drivers[value.driver][value.service_id] = value.quantity
    if Driver.USAGE not in drivers:
        for offering_id, quantity in used.items():
            offering = offerings[offering_id]
            weight = quantity * (offering.standard_unit_cost or Decimal(1))
            drivers[Driver.USAGE][offering.service_id] = (
                drivers[Driver.USAGE].get(offering.service_id, Decimal(0)) + weight
            )
    return rules, drivers


def _cost_rows(period, currency, allocated, spread, used, offerings) -> tuple[list, list]:
    """The service cost rows and unit cost rows of an allocation. ``spread``: the idle capacity
    spread onto services (empty when it is shown separately, on the row with no service)."""
    service_rows, unit_rows = [], []
    for service_id, parts in allocated.items():
        base = sum(parts.values(), Decimal(0))
        if service_id is None:
            if spread:
                continue
            idle = Decimal(0)
        else:
            idle = spread.get(service_id, Decimal(0))
        service_rows.append(
            ServiceCost(
                period=period,
                service_id=service_id,
                allocated=base,
                idle=idle,
                total=base + idle,
                currency=currency,
                breakdown={k: str(v) for k, v in sorted(parts.items())},
            )
        )
        if service_id is None:
            continue
        usage = [
            (o.pk, used[o.pk], o.standard_unit_cost)
            for o in offerings.values()
            if o.service_id == service_id
        ]
        for offering_id, quantity, cost, unit_cost in allocation.unit_costs(
            base + idle, sorted(usage), currency
        ):
            unit_rows.append(
                UnitCost(
                    period=period,
                    offering_id=offering_id,
                    quantity=quantity,
                    cost=cost,
                    unit_cost=unit_cost,
                    currency=currency,
                )
            )
    return service_rows, unit_rows


@transaction.atomic
def record_price_override(
    *, actor: User | None, agreement: Agreement, offering: Offering, reason: str
) -> PriceFloorOverride:
    """A finance user accepts a contract line priced below cost, saying why."""
    require_role(actor, *FINANCE, action="Overriding the price floor")
    if not reason or not reason.strip():
        raise DomainError("an override needs a reason", field="reason")
    if not AgreementLine.objects.filter(agreement=agreement, offering=offering).exists():
        raise DomainError("the contract has no line for this offering", field="offering")
    override = PriceFloorOverride(
        agreement=agreement, offering=offering, reason=reason.strip(), recorded_by=actor
    )
    save_validated(override)
    from servicebook.agreements.models import AgreementEvent

    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="price_override",
        note=f"{offering.code} may be priced below cost: {reason.strip()}"[:500],
    )
    return override
