"""Rating's finishing step, shared by every engine and vectorized: each line gets the terms of
its price row, its status and unit; flat (prorated) lines are divided and rounded exactly, in
integers, because SQL engines disagree on decimal division."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servicebook.finance.usage.rating.expressions import Plan
from servicebook.finance.usage.rating.schema import (
    AMOUNT_TYPE,
    CHARGE_LINE_SCHEMA,
    LINE_QUANTITY_TYPE,
    PRICE_TYPE,
    conform,
)


def finish(
    lines: pa.Table,
    prices: pa.Table,
    plan: Plan,
    minor: Mapping[str, int],
    units: Mapping[int, str],
    *,
    presorted: bool = False,
) -> pa.Table:
    """The shared finishing step, the same for every engine, vectorized on the (sorted) lines.

    Each line gets the terms of its price row, its status and its offering's unit (from the price
    rows).  Flat lines: divide prorated unit-microseconds by the period length and round once,
    with :mod:`decimal` (SQL engines disagree on decimal division); the other lines keep the
    quantities the engine computed and their amounts rounded once, half away from zero, to the
    currency's minor unit.  Lines come out sorted by customer, offering and price_id, unrated
    lines (price_id null) last within a customer and offering."""
    if not presorted:  # rate() hands them over sorted (DuckDB sorts them: line_amounts)
        keys = ("customer_id", "offering_id", "price_id")
        order = pc.sort_indices(lines, sort_keys=[(k, "ascending", "at_end") for k in keys])
        lines = lines.take(order)
    price_id = lines["price_id"]
    rated = pc.is_valid(price_id)
    row = pc.index_in(price_id, value_set=prices["price_id"])

    def term(name: str) -> pa.ChunkedArray:
        return pc.take(prices[name], row)

    scope = pc.if_else(pc.is_null(term("customer_id")), "list", "customer")
    columns = {
        "customer_id": lines["customer_id"],
        "offering_id": lines["offering_id"],
        "period": pc.if_else(rated, plan.period, plan.period),
        "currency": term("currency"),
        "status": pc.if_else(rated, "rated", "unrated"),
        "reason": pc.if_else(
            rated, pa.scalar(None, pa.string()), "no price in force at start_time"
        ),
        "charge_model": term("charge_model"),
        "quantity": lines["quantity"],
        "rated_quantity": lines["rated_quantity"],
        "unit": pc.take(
            pa.array(list(units.values()), pa.string()),
            pc.index_in(lines["offering_id"], value_set=pa.array(list(units), pa.int64())),
        ),
        "amount": _round_amounts(lines["amount"], term("currency"), minor),
        "records": lines["records"],
        "price_id": price_id,
        "price_scope": pc.if_else(rated, scope, pa.scalar(None, pa.string())),
        "unit_price": term("unit_price"),
        "package_size": term("package_size"),
        "tier_set_id": term("tier_set_id"),
        "valid_from": term("valid_from"),
        "valid_to": term("valid_to"),
    }
    if plan.flat_offerings:
        _finish_flat(columns, lines["flat_unit_us"], plan, minor)
    return conform(pa.table(columns), CHARGE_LINE_SCHEMA, "lines")


def _round_amounts(
    raw: pa.ChunkedArray, currency: pa.ChunkedArray, minor: Mapping[str, int]
) -> pa.Array | pa.ChunkedArray:
    """``raw`` rounded once, half away from zero, to the minor unit of each line's currency (2
    for a currency ``minor`` does not list), as :data:`AMOUNT_TYPE`.

    Exact, in integers: each amount is cut (toward zero) to one digit more than the finest minor
    unit in use, one 128-bit division, and rounded from that digit in 64-bit integers. Rounding
    half away from zero from the value cut to one more digit gives what rounding the value
    itself gives (floor((floor(10x) + 5) / 10) = floor((10x + 5) / 10)). Arrow's own decimal
    rounding (a division and a multiplication, then a rescaling division) takes over for amounts
    too large for that (from 10^11 when cents are the finest unit)."""
    used = [c for c in pc.unique(currency).to_pylist() if c is not None]
    digits_of = {c: minor.get(c, 2) for c in used}
    fast = _round_in_integers(raw, currency, digits_of)
    return fast if fast is not None else _round_with_arrow(raw, currency, digits_of)


def _round_in_integers(
    raw: pa.ChunkedArray, currency: pa.ChunkedArray, digits_of: Mapping[str, int]
) -> pa.Array | None:
    """:func:`_round_amounts` through 64-bit integers, or None when an amount is too large."""
    # a line without a currency (unrated: no amount) counts as 2, like an unlisted currency
    in_use = set(digits_of.values()) | ({2} if currency.null_count or not digits_of else set())
    cut_scale = max(in_use) + 1
    cut = pc.cast(
        raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw,
        pa.decimal128(38, cut_scale),
        safe=False,
    )
    words = _words(cut).view("<i8")
    low, high = words[:, 0], words[:, 1]
    valid = pc.is_valid(cut).to_numpy(zero_copy_only=False)
    if cut.offset or (
        valid.any()
        and (not (high[valid] == low[valid] >> 63).all() or np.abs(low[valid]).max() >= 10**14)
    ):
        return None  # beyond 64 bits with room to scale (or a slice: not seen from rating)
    digits: int | np.ndarray
    if len(in_use) == 1:  # one minor unit for every line (the usual case)
        (digits,) = in_use
    else:
        table = np.array([digits_of[c] for c in digits_of] + [2], dtype=np.int64)
        index = pc.index_in(currency, value_set=pa.array(list(digits_of), pa.string()))
        digits = table[pc.fill_null(index, len(digits_of)).to_numpy(zero_copy_only=False)]
    whole = _divide_half_up(low, np.power(10, cut_scale - digits, dtype=np.int64))
    scaled = whole * np.power(10, AMOUNT_TYPE.scale - digits)  # in minor units, rescaled
    out = np.empty((len(cut), 2), dtype="<i8")
    out[:, 0], out[:, 1] = scaled, scaled >> 63
    return _from_words(out.view("<u8"), AMOUNT_TYPE, cut.buffers()[0] if cut.null_count else None)


def _round_with_arrow(
    raw: pa.ChunkedArray, currency: pa.ChunkedArray, digits_of: Mapping[str, int]
) -> pa.ChunkedArray:
    """:func:`_round_amounts` by Arrow's decimal rounding, for any amount."""

    def rounded(d: int) -> pa.ChunkedArray:
        out = pc.round(raw, ndigits=d, round_mode="half_towards_infinity")
        return pc.cast(out, AMOUNT_TYPE)

    amount = rounded(2)  # also a line without a currency
    for d in sorted(set(digits_of.values()) - {2}):
        these = pa.array([c for c, k in digits_of.items() if k == d], pa.string())
        in_these = pc.fill_null(pc.is_in(currency, value_set=these), False)
        amount = pc.if_else(in_these, rounded(d), amount)
    return amount


def _words(arr: pa.Array) -> np.ndarray:
    """The two 64-bit words (low, high: two's complement) of each value of a decimal128 array,
    read from its buffer, one row a value."""
    words = np.frombuffer(arr.buffers()[1], dtype="<u8", count=2 * (arr.offset + len(arr)))
    return words[2 * arr.offset :].reshape(-1, 2)


def _from_words(words: np.ndarray, typ: pa.DataType, validity: pa.Buffer | None = None):
    """A decimal128 array of ``typ`` from its values' words (see :func:`_words`)."""
    return pa.Array.from_buffers(typ, len(words), [validity, pa.py_buffer(words.tobytes())])


def _unscaled(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The integers behind a non-null decimal128 array (value x 10^scale), read from its buffer,
    as an object array of Python integers (exact, and operated on without a Python loop)."""
    words = _words(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
    return words[:, 1].view("<i8").astype(object) * (1 << 64) + words[:, 0].astype(object)


def _from_unscaled(values: np.ndarray, typ: pa.DataType) -> pa.Array:
    """A decimal128 array of ``typ`` from its unscaled integers (two's complement words)."""
    words = np.empty((len(values), 2), dtype="<u8")
    words[:, 0] = (values & ((1 << 64) - 1)).astype("<u8")
    words[:, 1] = (values >> 64).astype("<i8").view("<u8")
    return _from_words(words, typ)


def _divide_half_up(numerator: np.ndarray, denominator: Any) -> np.ndarray:
    """numerator / denominator (> 0) rounded half away from zero, in integers, elementwise."""
    q = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    return np.where(numerator < 0, -q, q)


def _finish_flat(
    columns: dict[str, Any], unit_us: pa.ChunkedArray, plan: Plan, minor: Mapping[str, int]
) -> None:
    """Quantity (unit-periods) and amount of the flat lines among ``columns``, in place.

    quantity = unit-microseconds / microseconds in the period, amount = unit_price x that, each
    rounded once, half away from zero, computed exactly on the integers behind the decimals
    (unit-microseconds have scale 6, prices scale 10)."""
    model = columns["charge_model"]
    if isinstance(model, pa.ChunkedArray):
        model = model.combine_chunks()
    mask = pc.fill_null(pc.equal(model, "flat"), False)
    at = pc.indices_nonzero(mask)
    if not len(at):
        return
    period_us = int((plan.end - plan.start).total_seconds()) * 1_000_000
    us_scale = unit_us.type.scale
    price_scale = PRICE_TYPE.scale
    quantity_scale = LINE_QUANTITY_TYPE.scale
    us_values = _unscaled(pc.cast(unit_us.take(at), pa.decimal128(38, us_scale)))
    prices = _unscaled(pc.cast(columns["unit_price"].take(at), PRICE_TYPE))
    currencies = columns["currency"].take(at).to_pylist()
    # an amount with d decimals, stored with AMOUNT_TYPE's scale: x 10^(scale - d) afterwards
    digits = np.array([minor.get(c, 2) for c in currencies], dtype=object)
    per_unit = period_us * 10 ** (us_scale - quantity_scale)
    unit_periods = _divide_half_up(us_values, per_unit)
    whole = _divide_half_up(
        us_values * prices * 10**digits, period_us * 10 ** (us_scale + price_scale)
    )
    amounts = whole * 10 ** (AMOUNT_TYPE.scale - digits)
    periods = _from_unscaled(unit_periods, LINE_QUANTITY_TYPE)
    for name, values in (
        ("quantity", periods),
        ("rated_quantity", periods),
        ("amount", _from_unscaled(amounts, AMOUNT_TYPE)),
    ):
        column = pc.cast(columns[name], values.type)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        columns[name] = pc.replace_with_mask(column, mask, values)
