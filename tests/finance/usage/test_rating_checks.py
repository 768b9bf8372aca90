"""Rating's price checks screen whole columns with Arrow and word a problem row by row: both
ways agree on any price table, and a close chunk's 600,000 price rows are checked at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from servicebook.finance.usage.rating import PRICE_SCHEMA, RatingInputError, checks
from servicebook.finance.usage.rating.expressions import make_plan

UTC = dt.UTC
DAYS = [dt.datetime(2024, 9, d, tzinfo=UTC) for d in (1, 5, 10, 16, 30)] + [
    dt.datetime(2024, 10, 1, tzinfo=UTC)
]

TERMS = ["price_id", "offering_id", "valid_from", "currency", "unit_price", "tier_set_id"]


@st.composite
def price_tables(draw) -> list[dict]:
    """Price rows that are mostly right (so that overlaps are reached), a few of them with a
    term missing or wrong, a repeated id or a backward validity."""
    rows = []
    for index in range(draw(st.integers(0, 8))):
        model = draw(st.sampled_from(["flat", "per_unit", "graduated", "volume", "package"]))
        start = draw(st.sampled_from(DAYS[:-1]))
        later = [d for d in DAYS if d > start]
        row = {
            "price_id": index + 1,
            "customer_id": draw(st.sampled_from([None, 1, 2])),
            "offering_id": draw(st.sampled_from([1, 2])),
            "valid_from": start,
            "valid_to": draw(st.sampled_from([None, *later])),
            "charge_model": model,
            "unit_price": None if model in ("graduated", "volume") else D("0.5"),
            "package_size": D(10) if model == "package" else None,
            "currency": "EUR",
            "tier_set_id": 1 if model in ("graduated", "volume") else None,
            "unit": draw(st.sampled_from(["h", "h", "h", "GB", None])),
        }
        fault = draw(st.sampled_from([None] * 12 + ["term", "model", "id", "backward", "size"]))
        if fault == "term":
            row[draw(st.sampled_from(TERMS))] = None
        elif fault == "model":
            row["charge_model"] = draw(st.sampled_from([None, "other"]))
        elif fault == "id":
            row["price_id"] = draw(st.integers(1, max(1, index)))
        elif fault == "backward":
            row["valid_to"] = start
        elif fault == "size":
            row["package_size"] = draw(st.sampled_from([None, D(0)]))
        if draw(st.booleans()) and fault is None:
            row["currency"] = draw(st.sampled_from(["", "EUR"]))
        rows.append(row)
    return rows


def _refused(check, table) -> str | None:
    try:
        check(table)
    except RatingInputError as exc:
        return str(exc)
    return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=price_tables())
def test_the_screen_and_the_row_by_row_check_agree(rows):
    table = pa.Table.from_pylist(rows, schema=PRICE_SCHEMA)
    by_row = _refused(checks._check_prices_row_by_row, table)
    event("refused" if by_row else "accepted")
    assert checks._prices_look_right(table) is (by_row is None)
    assert _refused(checks.check_prices, table) == by_row
    assert _refused(checks.offering_units, table) == _refused(
        checks._offering_units_row_by_row, table
    )
    if by_row is None and _refused(checks.offering_units, table) is None:
        assert checks.offering_units(table) == checks._offering_units_row_by_row(table)


def _close_chunk_prices(customers: int, offerings: int) -> pa.Table:
    """A list price per offering, and every customer's own price of every offering."""
    import numpy as np

    n = (customers + 1) * offerings
    offering = np.tile(np.arange(offerings), customers + 1)
    customer = pa.array(
        np.repeat(np.arange(-1, customers), offerings), pa.int64(), mask=np.arange(n) < offerings
    )
    units = pa.array([f"u{o}" for o in range(offerings)])

    def same(value, typ) -> pa.Array:
        return pa.repeat(pa.scalar(value, typ), n)

    return pa.table(
        {
            "price_id": pa.array(np.arange(n), pa.int64()),
            "customer_id": customer,
            "offering_id": pa.array(offering, pa.int64()),
            "valid_from": same(dt.datetime(2024, 9, 1, tzinfo=UTC), pa.timestamp("us", tz="UTC")),
            "valid_to": pa.nulls(n, pa.timestamp("us", tz="UTC")),
            "charge_model": same("per_unit", pa.string()),
            "unit_price": same(D("0.0123"), pa.decimal128(38, 10)),
            "package_size": pa.nulls(n, pa.decimal128(38, 10)),
            "currency": same("EUR", pa.string()),
            "tier_set_id": pa.nulls(n, pa.int64()),
            "unit": units.take(pa.array(offering)),
        }
    ).cast(PRICE_SCHEMA)


def test_a_close_chunk_s_prices_are_checked_whole():
    """2,000 customers x 300 offerings: the screen passes them, and finds the one overlap."""
    prices = _close_chunk_prices(2000, 300)
    checks.check_prices(prices)
    assert len(checks.offering_units(prices)) == 300
    assert make_plan(prices, "2024-09").seg_starts == [dt.datetime(2024, 9, 1, tzinfo=UTC)]
    small = _close_chunk_prices(50, 300)  # a problem is worded row by row: a smaller table
    extra = small.slice(small.num_rows - 1).to_pylist()[0] | {"price_id": 10**9}
    with pytest.raises(RatingInputError, match=r"customer 49, offering 299\) are in force"):
        checks.check_prices(pa.concat_tables([small, pa.Table.from_pylist([extra], PRICE_SCHEMA)]))
