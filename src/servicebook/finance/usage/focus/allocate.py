"""Allocating cloud cost to customers: rules (resource, tag, sub-account; the most specific
wins) and an exact split in which allocated, shared and unallocated add up to the file total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from servicebook.core.money import allocate_amount
from servicebook.finance.usage.focus.reading import FocusFormatError, exact_text, tag_values


@dataclass(frozen=True)
class AllocationRules:
    """How cloud cost maps to customers.

    Precedence, most specific first: ``resources`` (ResourceId -> customer), then ``tags`` (tag
    key -> tag value -> customer; keys are tried in the mapping's order), then ``sub_accounts``
    (SubAccountId -> customer).  A row no rule maps goes to the shared pool.  Mapping a value to
    ``None`` sends it to the shared pool explicitly.
    """

    resources: Mapping[str, str | None] = field(default_factory=dict)
    tags: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    sub_accounts: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class AllocationResult:
    """Cost per customer; ``allocated + shared + unallocated == total`` exactly."""

    cost_column: str
    currency: str
    total: Decimal
    direct: dict[str, Decimal]  # cost mapped to each customer by the rules
    shared_spread: dict[str, Decimal]  # each customer's share of the pool (if spread)
    allocated: dict[str, Decimal]  # direct + shared_spread
    shared: Decimal  # pool reported separately (not spread)
    unallocated: Decimal  # pool that could not be spread (no positive allocated cost)
    rows: dict[str, int]  # rows per customer, "" for the pool
    places: int

    def check(self) -> None:
        """Raise if the parts do not add up to the total (they always should)."""
        parts = sum(self.allocated.values(), Decimal(0)) + self.shared + self.unallocated
        if parts != self.total:
            raise AssertionError(f"allocation parts {parts} != file total {self.total}")


def _scale(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def largest_remainder(
    amount: Decimal, weights: Mapping[str, Decimal], places: int
) -> dict[str, Decimal]:
    """Split ``amount`` in proportion to the positive ``weights`` in units of 10^-places, exactly:
    :func:`servicebook.core.money.allocate_amount` (the one largest-remainder split) over the
    keys in sorted order, so ties go to the first key. ``amount`` must be a whole number of units.
    """
    positive = sorted((k, w) for k, w in weights.items() if w > 0)
    if not positive:
        raise ValueError("no positive weight to spread on")
    parts = allocate_amount(amount, [w for _, w in positive], Decimal(1).scaleb(-places))
    return {k: part for (k, _), part in zip(positive, parts, strict=True)}


def owners(table: pa.Table, rules: AllocationRules) -> list[str | None]:
    """The customer each row's cost goes to under ``rules`` (``None``: the shared pool)."""
    n = table.num_rows
    owner: list[str | None] = [None] * n
    decided = [False] * n

    def apply(values: Sequence[str | None], mapping: Mapping[str, str | None]) -> None:
        for i, v in enumerate(values):
            if not decided[i] and v is not None and v in mapping:
                owner[i] = mapping[v]
                decided[i] = True

    if rules.resources and "ResourceId" in table.column_names:
        apply(table["ResourceId"].to_pylist(), rules.resources)
    for key, mapping in rules.tags.items():
        apply(tag_values(table, key), mapping)
    if rules.sub_accounts and "SubAccountId" in table.column_names:
        apply(table["SubAccountId"].to_pylist(), rules.sub_accounts)
    return owner


def allocate(
    table: pa.Table,
    rules: AllocationRules,
    *,
    cost_column: str = "BilledCost",
    spread_shared: bool = False,
    places: int | None = None,
) -> AllocationResult:
    """Allocate the cost of a FOCUS table (from :func:`read_focus`) to customers.

    With ``spread_shared`` the shared pool is spread over the customers in proportion to their
    direct (positive) allocated cost with :func:`largest_remainder` at ``places`` decimal places
    (default: as many as the pool needs, so nothing is rounded away); otherwise it is reported as
    ``shared``.  If there is nothing to spread on, the pool is reported as ``unallocated``.
    All rows must share one ``BillingCurrency``.
    """
    if cost_column not in table.column_names:
        raise FocusFormatError(f"no {cost_column} column")
    currencies = {c for c in table["BillingCurrency"].to_pylist() if c is not None}
    if len(currencies) > 1:
        raise ValueError(f"cannot allocate a file with several currencies: {sorted(currencies)}")
    costs = [c if c is not None else Decimal(0) for c in table[cost_column].to_pylist()]
    owner = owners(table, rules)

    direct: dict[str, Decimal] = {}
    rows: dict[str, int] = {}
    pool = Decimal(0)
    for who, cost in zip(owner, costs, strict=True):
        if who is None:
            pool += cost
            rows[""] = rows.get("", 0) + 1
        else:
            direct[who] = direct.get(who, Decimal(0)) + cost
            rows[who] = rows.get(who, 0) + 1
    total = sum(costs, Decimal(0))
    needed = max([_scale(pool), *(_scale(v) for v in direct.values()), 0])
    if places is None:
        places = needed
    elif places < _scale(pool):
        raise ValueError(
            f"the shared pool {pool} has {_scale(pool)} decimal places; it cannot be spread"
            f" exactly at {places}"
        )
    spread: dict[str, Decimal] = {}
    shared = unallocated = Decimal(0)
    if spread_shared and pool:
        if any(v > 0 for v in direct.values()):
            spread = largest_remainder(pool, direct, places)
        else:
            unallocated = pool
    else:
        shared = pool
    allocated = {k: direct[k] + spread.get(k, Decimal(0)) for k in sorted(direct)}
    result = AllocationResult(
        cost_column=cost_column,
        currency=next(iter(currencies), ""),
        total=total,
        direct=dict(sorted(direct.items())),
        shared_spread=dict(sorted(spread.items())),
        allocated=allocated,
        shared=shared,
        unallocated=unallocated,
        rows=rows,
        places=places,
    )
    result.check()
    return result


def allocation_report(result: AllocationResult) -> dict[str, Any]:
    """An :class:`AllocationResult` as JSON-able exact decimal strings."""

    def text(d: Decimal) -> str:
        return exact_text(d)

    return {
        "cost_column": result.cost_column,
        "currency": result.currency,
        "total": text(result.total),
        "direct": {k: text(v) for k, v in result.direct.items()},
        "spread": {k: text(v) for k, v in result.shared_spread.items()},
        "allocated": {k: text(v) for k, v in result.allocated.items()},
        "allocated_total": text(sum(result.allocated.values(), Decimal(0))),
        "shared": text(result.shared),
        "unallocated": text(result.unallocated),
        "rows": dict(result.rows),
    }
