"""Rating's input checks, in Python before any engine runs: price rows that overlap or lack a
term, offerings quoted per different units, tier sets with gaps."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pyarrow as pa

from servicebook.finance.usage.rating.schema import CHARGE_MODELS, RatingInputError


def check_prices(prices: pa.Table) -> None:
    rows = prices.to_pylist()
    by_scope: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    seen: set[int] = set()
    for row in rows:
        pid = row["price_id"]
        if pid is None:
            raise RatingInputError("price row without price_id")
        if pid in seen:
            raise RatingInputError(f"price_id {pid} is used by two price rows")
        seen.add(pid)
        model = row["charge_model"]
        if model not in CHARGE_MODELS:
            raise RatingInputError(
                f"price {pid}: unknown charge_model {model!r} (expected one of {CHARGE_MODELS})"
            )
        if row["offering_id"] is None or row["valid_from"] is None or not row["currency"]:
            raise RatingInputError(
                f"price {pid}: offering_id, valid_from and currency are required"
            )
        if row["valid_to"] is not None and row["valid_to"] <= row["valid_from"]:
            raise RatingInputError(f"price {pid}: valid_to must be after valid_from")
        if model in {"graduated", "volume"}:
            if row["tier_set_id"] is None:
                raise RatingInputError(f"price {pid}: {model} needs a tier_set_id")
        elif row["unit_price"] is None:
            raise RatingInputError(f"price {pid}: {model} needs a unit_price")
        if model == "package" and (row["package_size"] is None or row["package_size"] <= 0):
            raise RatingInputError(f"price {pid}: package needs a positive package_size")
        by_scope.setdefault((row["customer_id"], row["offering_id"]), []).append(row)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    for (customer, offering), group in by_scope.items():
        group.sort(key=lambda r: r["valid_from"])
        for a, b in itertools.pairwise(group):
            if (a["valid_to"] or far) > b["valid_from"]:
                scope = "list" if customer is None else f"customer {customer}"
                raise RatingInputError(
                    f"prices {a['price_id']} and {b['price_id']} ({scope}, offering {offering})"
                    " are in force at the same time"
                )


def offering_units(prices: pa.Table) -> dict[int, str]:
    """The unit each offering's prices are quoted per; prices of one offering must agree."""
    units: dict[int, str] = {}
    first: dict[int, int] = {}
    for row in prices.select(["price_id", "offering_id", "unit"]).to_pylist():
        offering, unit = row["offering_id"], row["unit"]
        if unit is None:
            continue
        if units.setdefault(offering, unit) != unit:
            raise RatingInputError(
                f"prices {first[offering]} and {row['price_id']} of offering {offering} are"
                f" quoted per different units ({units[offering]!r}, {unit!r})"
            )
        first.setdefault(offering, row["price_id"])
    return units


def check_tiers(tiers: pa.Table, needed: set[int]) -> None:
    sets: dict[int, list[dict[str, Any]]] = {}
    for row in tiers.to_pylist():
        sets.setdefault(row["tier_set_id"], []).append(row)
    for tier_set in sorted(needed):
        rows = sorted(sets.get(tier_set, []), key=lambda r: r["lower_bound"])
        if not rows:
            raise RatingInputError(f"tier set {tier_set} is used by a price but has no tiers")
        expected = Decimal(0)
        for i, row in enumerate(rows):
            if row["lower_bound"] != expected:
                raise RatingInputError(
                    f"tier set {tier_set}: tier starting at {row['lower_bound']} leaves a gap or"
                    f" overlap (expected a tier starting at {expected})"
                )
            if row["unit_price"] is None:
                raise RatingInputError(f"tier set {tier_set}: tier {i + 1} has no unit_price")
            upper = row["upper_bound"]
            if upper is None:
                if i != len(rows) - 1:
                    raise RatingInputError(f"tier set {tier_set}: only the last tier is unbounded")
                break
            if upper <= row["lower_bound"]:
                raise RatingInputError(f"tier set {tier_set}: empty tier at {row['lower_bound']}")
            expected = upper
        else:
            raise RatingInputError(f"tier set {tier_set}: the last tier must be unbounded")
