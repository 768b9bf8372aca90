"""Cost allocation arithmetic (pure: no Django import): pools → services → offering unit costs.

Every split uses the largest-remainder method on whole cents, so the parts of a pool always sum
to the pool exactly: allocation never loses or invents a cent.

Shared and idle capacity (the share of a fixed rule with no service) is handled by one setting:
``separate`` (default) keeps it as its own line, outside the services' costs, so unit costs show
the cost of what is used and idle capacity stays visible; ``spread`` spreads it onto the services
in proportion to their allocated cost, so the services recover all of the spend.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

from servicebook.core.money import allocate_amount, quantum

IDLE = None  # the key of shared and idle capacity
UNIT_COST_PLACES = Decimal("0.000001")


class AllocationError(ValueError):
    """A pool cannot be allocated (no rule, no driver values, shares not summing to 100)."""


def allocate_pools(
    pools: Sequence[tuple[str, Decimal]],
    rules: Mapping[str, tuple[str, Sequence[tuple[int | None, Decimal]]]],
    drivers: Mapping[str, Mapping[int, Decimal]],
    currency: str,
) -> dict[int | None, dict[str, Decimal]]:
    """Split each ``(category, amount)`` pool by its category's rule.

    ``rules[category] = (driver, shares)``; for the fixed driver ``shares`` are
    ``(service_id | None, percent)`` summing to 100; other drivers use ``drivers[driver]``
    (service_id → quantity). Returns {service_id or IDLE: {category: amount}}.
    """
    unit = quantum(currency)
    result: dict[int | None, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for category, amount in pools:
        if category not in rules:
            raise AllocationError(f"no allocation rule for {category} pools")
        driver, shares = rules[category]
        if driver == "fixed":
            if not shares:
                raise AllocationError(f"the fixed rule for {category} has no shares")
            total = sum((Decimal(p) for _, p in shares), Decimal(0))
            if total != 100:
                raise AllocationError(f"the shares for {category} sum to {total}, not 100")
            targets: list[int | None] = [service for service, _ in shares]
            weights = [Decimal(p) for _, p in shares]
        else:
            values = {s: q for s, q in drivers.get(driver, {}).items() if q > 0}
            if not values:
                raise AllocationError(f"no {driver} driver values to allocate {category} pools")
            targets = list(sorted(values))
            weights = [values[s] for s in sorted(values)]
        for target, part in zip(targets, allocate_amount(amount, weights, unit), strict=True):
            result[target][category] += part
    return result


def spread_idle(
    allocated: Mapping[int | None, Mapping[str, Decimal]], currency: str
) -> dict[int, Decimal]:
    """The idle capacity of ``allocated`` spread onto services by their allocated totals."""
    idle = sum(allocated.get(IDLE, {}).values(), Decimal(0))
    services = sorted(s for s in allocated if s is not IDLE)
    if not idle or not services:
        return {s: Decimal(0) for s in services}
    weights = [sum(allocated[s].values(), Decimal(0)) for s in services]
    parts = allocate_amount(idle, weights, quantum(currency))
    return dict(zip(services, parts, strict=True))


def unit_costs(
    service_total: Decimal,
    consumption: Sequence[tuple[int, Decimal, Decimal | None]],
    currency: str,
) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    """Split a service's cost over its offerings and divide by the units consumed.

    ``consumption`` is ``(offering_id, quantity, standard_unit_cost)``; offerings are weighted by
    quantity × standard cost (quantity alone when no standard cost is known). Returns
    ``(offering_id, quantity, cost, unit_cost)`` for offerings with a positive quantity; the costs
    sum to ``service_total`` exactly.
    """
    used = [(o, q, s) for o, q, s in consumption if q > 0]
    if not used:
        return []
    with_cost = all(s for _, _, s in used)
    weights = [q * (s or 0) for _, q, s in used] if with_cost else [q for _, q, _ in used]
    parts = allocate_amount(service_total, weights, quantum(currency))
    return [
        (o, q, part, (part / q).quantize(UNIT_COST_PLACES))
        for (o, q, _), part in zip(used, parts, strict=True)
    ]
