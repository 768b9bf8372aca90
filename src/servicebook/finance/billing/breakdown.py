"""The arithmetic of one charge line, step by step (pure: no Django import).

A graduated line of 12,000 VM hours reads "0-1,000 × 0.09 = 90 + 1,000-10,000 × 0.07 = 630 +
10,000-12,000 × 0.05 = 100" instead of a bare "12,000 × 0.09 = 820": every line of an invoice can
be checked by hand on the page, the PDF and the CSV. The steps add up exactly to the unrounded
amount that :func:`servicebook.catalog.pricing.charge_amount` gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from servicebook.catalog.pricing import graduated_slices, package_count, volume_tier

Tier = tuple[Decimal, Decimal]
#: charge models whose amount is not simply quantity × unit price
STEPPED_MODELS = ("graduated", "volume", "package", "flat")


def charge_steps(
    charge_model: str,
    quantity: Decimal,
    unit_price: Decimal,
    *,
    package_size: Decimal | None = None,
    tiers: Sequence[Tier] = (),
) -> list[dict[str, str]]:
    """The steps of a charge: ``{"label", "quantity", "unit_price", "amount"}`` (strings).

    Empty for a per-unit charge (quantity × unit price says it all)."""
    steps: list[dict[str, str]] = []

    def step(label: str, qty: Decimal, price: Decimal) -> None:
        steps.append(
            {
                "label": label,
                "quantity": _plain(qty),
                "unit_price": _plain(price),
                "amount": _plain(qty * price),
            }
        )

    if charge_model == "graduated" and tiers:
        for lower, upper, units, price in graduated_slices(quantity, tiers):
            bound = f"{_plain(lower)}+" if upper is None else f"{_plain(lower)}-{_plain(upper)}"
            step(f"tier {bound}", units, price)
    elif charge_model == "volume" and tiers:
        lower, price = volume_tier(quantity, tiers)
        step(f"all units at the tier from {_plain(lower)}", quantity, price)
    elif charge_model == "package" and package_size:
        packs = package_count(quantity, package_size)
        step(f"{_plain(packs)} package(s) of {_plain(package_size)}", packs, unit_price)
    elif charge_model == "flat":
        step("flat charge", Decimal(1 if quantity > 0 else 0), unit_price)
    return steps


def steps_text(steps: Sequence[dict[str, str]]) -> str:
    """One line for a CSV cell: ``tier 0-1000: 1000 × 0.09 = 90 + …``."""
    return " + ".join(
        f"{s['label']}: {s['quantity']} × {s['unit_price']} = {s['amount']}" for s in steps
    )


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``1E+3`` → ``1000``, ``0.0700`` → ``0.07``)."""
    text = format(Decimal(value).normalize(), "f")
    return text
