"""Pricing arithmetic for one quantity under a charge model (pure: no Django import).

The same rules the columnar rating engine applies at scale, written plainly for agreement lines,
previews and tests. Amounts are exact Decimals; rounding to the currency is the caller's job
(``servicebook.core.money.round_money``), once per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal

Tier = tuple[Decimal, Decimal]  # (lower_bound, unit_price), sorted by lower_bound, first at 0


def package_count(quantity: Decimal, package_size: Decimal) -> Decimal:
    """Whole packages needed for a quantity (rounded up)."""
    if package_size <= 0:
        raise ValueError("package size must be positive")
    return (quantity / package_size).to_integral_value(rounding=ROUND_CEILING)


def graduated_slices(
    quantity: Decimal, tiers: Sequence[Tier]
) -> list[tuple[Decimal, Decimal | None, Decimal, Decimal]]:
    """The slices of a quantity under graduated tiers: ``(lower, upper, units, unit price)``
    for each tier the quantity reaches (``upper`` None for the open last tier)."""
    _check_tiers(tiers)
    slices = []
    for index, (lower, price) in enumerate(tiers):
        upper = tiers[index + 1][0] if index + 1 < len(tiers) else None
        if quantity <= lower:
            break
        top = quantity if upper is None else min(quantity, upper)
        slices.append((lower, upper, top - lower, price))
    return slices


def graduated_amount(quantity: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """Each slice of the quantity is priced at the rate of the tier it falls in."""
    return sum(
        (units * price for _, _, units, price in graduated_slices(quantity, tiers)), Decimal(0)
    )


def volume_tier(quantity: Decimal, tiers: Sequence[Tier]) -> Tier:
    """The tier ``(lower, unit price)`` the whole quantity falls in."""
    _check_tiers(tiers)
    tier = tiers[0]
    for lower, tier_price in tiers:
        if quantity >= lower:
            tier = (lower, tier_price)
    return tier


def volume_amount(quantity: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """The whole quantity is priced at the rate of the tier the total falls in."""
    return quantity * volume_tier(quantity, tiers)[1]


def charge_amount(
    charge_model: str,
    quantity: Decimal,
    unit_price: Decimal,
    *,
    package_size: Decimal | None = None,
    tiers: Sequence[Tier] = (),
) -> Decimal:
    """The unrounded charge for ``quantity`` units in one period under ``charge_model``."""
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    if charge_model == "flat":
        return unit_price if quantity > 0 else Decimal(0)
    if charge_model == "per_unit":
        return quantity * unit_price
    if charge_model == "package":
        return package_count(quantity, package_size or Decimal(0)) * unit_price
    if charge_model == "graduated":
        return graduated_amount(quantity, tiers)
    if charge_model == "volume":
        return volume_amount(quantity, tiers)
    raise ValueError(f"unknown charge model {charge_model!r}")


def _check_tiers(tiers: Sequence[Tier]) -> None:
    if not tiers:
        raise ValueError("a tiered charge model needs at least one tier")
    if tiers[0][0] != 0:
        raise ValueError("the first tier must start at 0")
    bounds = [lower for lower, _ in tiers]
    if bounds != sorted(set(bounds)):
        raise ValueError("tier lower bounds must be strictly increasing")
