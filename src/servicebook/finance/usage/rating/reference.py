"""Reference rating as a per-record Python loop (Decimal arithmetic): the oracle of the tests and
the baseline of the benchmark."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

import pyarrow as pa

from servicebook.core.money import MINOR_UNITS, round_half_up
from servicebook.core.periods import period_bounds
from servicebook.finance.usage.rating.schema import (
    PRICE_SCHEMA,
    TIER_SCHEMA,
    conform,
)


def rate_python(
    usage: pa.Table,
    prices: pa.Table,
    tiers: pa.Table | None,
    period: str,
    *,
    minor_units: Mapping[str, int] | None = None,
) -> dict[tuple[int, int, int | None], Decimal]:
    """Reference rating as a per-record Python loop (Decimal arithmetic), metered models only.

    This is how early rating engines worked -- look up the price of each record, accumulate --
    and it is kept as an independent oracle for tests and as the baseline of the benchmark.
    Returns ``{(customer_id, offering_id, price_id): amount}``; flat prices are not handled.
    """
    minor = {**MINOR_UNITS, **(minor_units or {})}
    start, end = period_bounds(period)
    price_rows = conform(prices, PRICE_SCHEMA, "prices").to_pylist()
    by_key: dict[tuple[Any, int], list[dict[str, Any]]] = {}
    for p in price_rows:
        by_key.setdefault((p["customer_id"], p["offering_id"]), []).append(p)
    tier_rows: dict[int, list[dict[str, Any]]] = {}
    if tiers is not None:
        for t in conform(tiers, TIER_SCHEMA, "tiers").to_pylist():
            tier_rows.setdefault(t["tier_set_id"], []).append(t)

    def in_force(cands: list[dict[str, Any]], ts: dt.datetime) -> dict[str, Any] | None:
        for p in cands:
            if p["valid_from"] <= ts and (p["valid_to"] is None or ts < p["valid_to"]):
                return p
        return None

    totals: dict[tuple[int, int, int], Decimal] = {}
    chosen: dict[int, dict[str, Any]] = {}
    cols = [usage[c].to_pylist() for c in ("customer_id", "offering_id", "quantity", "start_time")]
    for customer, offering, quantity, ts in zip(*cols, strict=True):
        if quantity is None or not (start <= ts < end):
            continue
        price = in_force(by_key.get((customer, offering), []), ts) or in_force(
            by_key.get((None, offering), []), ts
        )
        if price is None or price["charge_model"] == "flat":
            continue
        key = (customer, offering, price["price_id"])
        totals[key] = totals.get(key, Decimal(0)) + quantity
        chosen[price["price_id"]] = price

    amounts: dict[tuple[int, int, int | None], Decimal] = {}
    for key, q in totals.items():
        p = chosen[key[2]]
        model = p["charge_model"]
        if model == "per_unit":
            raw = q * p["unit_price"]
        elif model == "package":
            size = p["package_size"]
            raw = (q / size).to_integral_value(rounding=ROUND_CEILING) * p["unit_price"]
        else:
            raw = Decimal(0)
            for t in tier_rows[p["tier_set_id"]]:
                lo, hi = t["lower_bound"], t["upper_bound"]
                if model == "graduated":
                    raw += (
                        max(Decimal(0), min(q, hi if hi is not None else q) - lo) * t["unit_price"]
                    )
                elif lo <= q and (hi is None or q < hi):
                    raw += q * t["unit_price"]
        amounts[key] = round_half_up(raw, minor.get(p["currency"], 2))
    return amounts
