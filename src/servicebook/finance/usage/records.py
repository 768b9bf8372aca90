"""Validating usage records: a file's rows split into accepted records and rejected rows, each
rejected row with every reason it fails.

Pure (Arrow, no Django): the caller passes the catalogue it knows (customers, offerings and their
units). A row is rejected -- never the whole file -- for a missing field, an unknown customer or
offering, a bad quantity, unit, currency, timestamp or tags, a closed month, or a duplicate record
id; only a missing *column* refuses the file.

Record schema (:data:`STORE_SCHEMA`)
------------------------------------
``record_id`` string, ``customer_id`` int64, ``offering_id`` int64,
``quantity`` decimal(18, 6) -- micro-units, up to 10^12 per record --, ``unit`` string (the
offering's canonical unit), ``start_time`` / ``end_time`` timestamp[us, UTC], ``source`` string,
``tags`` string (a JSON object, or null), ``cost`` decimal(38, 15) and ``currency`` string (both
optional; filled for cloud-bill rows), ``import_hash`` string (SHA-256 of the file).

Raw input columns
-----------------
``record_id``, ``customer`` (or ``customer_key`` / ``customer_id``), ``offering`` (or
``offering_code`` / ``offering_id``), ``quantity``, ``unit``, ``start_time``, ``end_time`` are
required; ``source``, ``tags``, ``cost``, ``currency`` are optional.  ``row_number`` in rejects
is the 1-based data row (the CSV line number minus one for the header).  A CSV row with the wrong
number of fields is rejected like any other bad row (``row 7: has 5 fields, the header has 8``),
with its text in the reason; the rest of the file is read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from servicebook.core.periods import period_bounds
from servicebook.finance.usage.reading import (
    TS_TYPE,
    MalformedRow,
    as_text,
    parse_decimals,
    parse_utc_timestamps,
    period_of,
)

QUANTITY_TYPE = pa.decimal128(18, 6)
COST_TYPE = pa.decimal128(38, 15)


STORE_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("customer_id", pa.int64()),
        ("offering_id", pa.int64()),
        ("quantity", QUANTITY_TYPE),
        ("unit", pa.string()),
        ("start_time", TS_TYPE),
        ("end_time", TS_TYPE),
        ("source", pa.string()),
        ("tags", pa.string()),
        ("cost", COST_TYPE),
        ("currency", pa.string()),
        ("import_hash", pa.string()),
    ]
)


REQUIRED = ("record_id", "customer", "offering", "quantity", "unit", "start_time", "end_time")


ALIASES = {
    "customer": ("customer", "customer_key", "customer_id"),
    "offering": ("offering", "offering_code", "offering_id"),
}


@dataclass(frozen=True)
class Offering:
    """An offering known to the caller: its id and canonical unit."""

    id: int
    unit: str


@dataclass
class ValidationResult:
    """Outcome of :func:`validate`: accepted records (:data:`STORE_SCHEMA`) and rejected rows."""

    rows_read: int
    accepted: pa.Table
    rejected: pa.Table  # original columns as text + row_number + reason

    @property
    def rows_rejected(self) -> int:
        return self.rejected.num_rows


def add_malformed(rejected: pa.Table, malformed: Sequence[MalformedRow]) -> pa.Table:
    """A rejects table (text columns + ``row_number`` + ``reason``) with the rows :func:`read_raw`
    could not split added, in file order."""
    if not malformed:
        return rejected
    names = [n for n in rejected.column_names if n not in ("row_number", "reason")]
    extra = {n: pa.nulls(len(malformed), pa.string()) for n in names}
    extra["row_number"] = pa.array([m.row for m in malformed], pa.int64())
    extra["reason"] = pa.array([m.reason for m in malformed], pa.string())
    return pa.concat_tables([rejected, pa.table(extra).cast(rejected.schema)]).sort_by("row_number")


def with_malformed(result: ValidationResult, malformed: Sequence[MalformedRow]) -> ValidationResult:
    """``result`` with the rows :func:`read_raw` could not split counted as read and rejected."""
    rejected = add_malformed(result.rejected, malformed)
    return ValidationResult(result.rows_read + len(malformed), result.accepted, rejected)


def _column(table: pa.Table, name: str) -> pa.Array | None:
    for candidate in ALIASES.get(name, (name,)):
        if candidate in table.column_names:
            return as_text(table[candidate])
    return None


def validate(
    table: pa.Table,
    *,
    customers: Mapping[str, int],
    offerings: Mapping[str, Offering | tuple[int, str]],
    period: str | None = None,
    currency: str | None = None,
    source: str = "",
    import_hash: str = "",
    customer_currencies: Mapping[str, str] | None = None,
    closed_periods: frozenset[str] | set[str] = frozenset(),
    row_numbers: Sequence[int] | None = None,
) -> ValidationResult:
    """Split raw usage rows into accepted records and rejected rows with reasons.

    ``customers`` maps a customer key (as written in the file) to its id; ``offerings`` maps an
    offering code to ``(id, unit)``; ``period`` (``YYYY-MM``) if given requires every record to
    lie inside it; ``currency`` if given requires the optional ``currency`` column to match;
    ``customer_currencies`` (customer key -> ISO code) requires the ``currency`` column, where
    filled, to be the customer's billing currency; a record whose month is in ``closed_periods``
    is refused (a closed month only takes adjustments).
    A row is rejected -- never the whole file -- for: a missing required field, an unknown
    customer or offering, a non-numeric, negative or too precise quantity, a unit that is not the
    offering's, a currency mismatch, an unparseable timestamp, timestamps outside the period,
    an end before the start, invalid JSON tags, a duplicate ``record_id`` within the file.  Every
    failing check is listed in the reason, e.g. ``row 7: quantity: negative quantity '-3'``.
    A missing *column* is a file-level error (:class:`ValueError`).  ``row_numbers`` gives the
    file's data row number of each row when :func:`read_raw` skipped malformed rows.
    """
    n = table.num_rows
    text = _text_columns(table)
    check = _Checks()
    for name in REQUIRED:
        check(name, pc.is_null(text[name]), "missing required field")
    customer_ids, offering_ids, offering_units = _check_keys(text, customers, offerings, check)
    quantity = _check_quantity_and_unit(text, offering_units, check)
    start, end = _check_times(text, period, check)
    cost, currencies = _check_cost_and_currency(text, n, currency, customer_currencies, check)
    if closed_periods:
        closed = pc.is_in(period_of(start), value_set=pa.array(sorted(closed_periods), pa.string()))
        check("start_time", closed, "start_time {v} falls in a closed period")
    tags = _check_tags(text, n, check)
    dup_of = _check_duplicates(text, check)
    any_problem = check.any_problem(n)

    def number(i: int) -> int:
        return row_numbers[i] if row_numbers is not None else i + 1

    rejected = _rejected(table, text, check, any_problem, number, dup_of)
    sources = pc.fill_null(text.get("source", pa.nulls(n, pa.string())), source)
    accepted = pa.table(
        [
            text["record_id"],
            customer_ids,
            offering_ids,
            quantity,
            offering_units,
            start,
            end,
            sources,
            tags,
            cost,
            currencies,
            pa.array([import_hash] * n, pa.string()),
        ],
        schema=STORE_SCHEMA,
    ).filter(pc.invert(any_problem))
    return ValidationResult(rows_read=n, accepted=accepted, rejected=rejected)


class _Checks:
    """The checks of one validation, in the order a row's reason lists them: ``(field, problem
    mask, message template)``; ``{v}`` in a template is the row's value."""

    def __init__(self) -> None:
        self.found: list[tuple[str, pa.Array, str]] = []

    def __call__(self, field: str, mask: pa.Array, message: str) -> None:
        self.found.append((field, pc.fill_null(mask, False), message))

    def any_problem(self, n: int) -> pa.Array:
        any_problem = pa.array([False] * n, pa.bool_())
        for _, mask, _ in self.found:
            any_problem = pc.or_(any_problem, mask)
        return any_problem


def _text_columns(table: pa.Table) -> dict[str, pa.Array]:
    """The required and optional columns as text; a missing required column refuses the file."""
    text: dict[str, pa.Array] = {}
    missing_cols = []
    for name in REQUIRED:
        col = _column(table, name)
        if col is None:
            missing_cols.append(name)
        else:
            text[name] = col
    if missing_cols:
        raise ValueError(
            f"usage file lacks required column(s) {', '.join(missing_cols)};"
            f" found {', '.join(table.column_names)}"
        )
    for name in ("source", "tags", "cost", "currency"):
        col = _column(table, name)
        if col is not None:
            text[name] = col
    return text


def _check_keys(text, customers, offerings, check: _Checks) -> tuple[pa.Array, ...]:
    """Known customer and offering: their ids and each row's offering unit."""
    offer_map = {k: (o if isinstance(o, Offering) else Offering(*o)) for k, o in offerings.items()}
    customer_keys = pa.array(list(customers), pa.string())
    customer_ids = pa.array(list(customers.values()), pa.int64())
    c_idx = pc.index_in(text["customer"], value_set=customer_keys)
    present = pc.is_valid(text["customer"])
    check("customer", pc.and_(present, pc.is_null(c_idx)), "unknown customer {v}")
    offering_keys = pa.array(list(offer_map), pa.string())
    o_idx = pc.index_in(text["offering"], value_set=offering_keys)
    present = pc.is_valid(text["offering"])
    check("offering", pc.and_(present, pc.is_null(o_idx)), "unknown offering {v}")
    offering_ids = pc.take(pa.array([o.id for o in offer_map.values()], pa.int64()), o_idx)
    offering_units = pc.take(pa.array([o.unit for o in offer_map.values()], pa.string()), o_idx)
    return pc.take(customer_ids, c_idx), offering_ids, offering_units


def _check_quantity_and_unit(text, offering_units: pa.Array, check: _Checks) -> pa.Array:
    quantity, q_bad, q_precise = parse_decimals(text["quantity"], QUANTITY_TYPE)
    check("quantity", q_bad, "non-numeric quantity {v}")
    check("quantity", q_precise, "quantity {v} does not fit decimal(18, 6)")
    check(
        "quantity", pc.less(quantity, pa.scalar(Decimal(0), QUANTITY_TYPE)), "negative quantity {v}"
    )
    unit_mismatch = pc.not_equal(pc.utf8_lower(text["unit"]), pc.utf8_lower(offering_units))
    check("unit", unit_mismatch, "unit {v} is not the offering's unit")
    return quantity


def _check_times(text, period: str | None, check: _Checks) -> tuple[pa.Array, pa.Array]:
    start, start_bad = parse_utc_timestamps(text["start_time"])
    end, end_bad = parse_utc_timestamps(text["end_time"])
    check("start_time", start_bad, "invalid timestamp {v}")
    check("end_time", end_bad, "invalid timestamp {v}")
    check("end_time", pc.less(end, start), "end_time {v} is before start_time")
    if period is not None:
        p_start, p_end = period_bounds(period)
        lo, hi = pa.scalar(p_start, TS_TYPE), pa.scalar(p_end, TS_TYPE)
        outside = pc.or_(pc.less(start, lo), pc.greater_equal(start, hi))
        check("start_time", outside, f"start_time {{v}} is outside period {period}")
        check("end_time", pc.greater(end, hi), f"end_time {{v}} is after the end of {period}")
    return start, end


def _check_cost_and_currency(
    text, n: int, currency: str | None, customer_currencies, check: _Checks
) -> tuple[pa.Array, pa.Array]:
    cost = pa.nulls(n, COST_TYPE)
    if "cost" in text:
        cost, c_bad, c_precise = parse_decimals(text["cost"], COST_TYPE)
        check("cost", c_bad, "non-numeric cost {v}")
        check("cost", c_precise, "cost {v} does not fit decimal(38, 15)")
    currencies = pc.utf8_upper(text["currency"]) if "currency" in text else pa.nulls(n, pa.string())
    if currency is not None and "currency" in text:
        check(
            "currency",
            pc.not_equal(currencies, currency.upper()),
            f"currency {{v}} is not {currency}",
        )
    if customer_currencies is not None and "currency" in text:
        keys = pa.array(list(customer_currencies), pa.string())
        expected = pc.take(
            pa.array([c.upper() for c in customer_currencies.values()], pa.string()),
            pc.index_in(text["customer"], value_set=keys),
        )
        check(
            "currency",
            pc.and_(pc.is_valid(expected), pc.not_equal(currencies, expected)),
            "currency {v} is not the customer's billing currency",
        )
    if "cost" in text:
        check(
            "currency", pc.and_(pc.is_valid(cost), pc.is_null(currencies)), "cost without currency"
        )
    return cost, currencies


def _check_tags(text, n: int, check: _Checks) -> pa.Array:
    """JSON tags need Python, but only over the non-null values."""
    tags = text.get("tags", pa.nulls(n, pa.string()))
    bad_tags = [False] * n
    for i, value in enumerate(tags.to_pylist()):
        if value is not None:
            try:
                bad_tags[i] = not isinstance(json.loads(value), dict)
            except ValueError:
                bad_tags[i] = True
    check("tags", pa.array(bad_tags, pa.bool_()), "tags {v} are not a JSON object")
    return tags


def _check_duplicates(text, check: _Checks) -> dict[int, int]:
    """A record id seen earlier in the file: {row: first row with that id}."""
    first_seen: dict[str, int] = {}
    dup = []
    dup_of: dict[int, int] = {}
    for i, rid in enumerate(text["record_id"].to_pylist()):
        if rid is not None and rid in first_seen:
            dup_of[i] = first_seen[rid]
        elif rid is not None:
            first_seen[rid] = i
        dup.append(i in dup_of)
    check("record_id", pa.array(dup, pa.bool_()), "duplicate record_id {v} (first at row {first})")
    return dup_of


def _rejected(table, text, check: _Checks, any_problem, number, dup_of) -> pa.Table:
    """The rejected rows: original columns as text, ``row_number`` and every reason."""
    bad_idx = pc.indices_nonzero(any_problem)
    bad_list = bad_idx.to_pylist()
    raw_values = {name: pc.take(arr, bad_idx).to_pylist() for name, arr in text.items()}
    masks = [(f, pc.take(m, bad_idx).to_pylist(), msg) for f, m, msg in check.found]
    reasons = []
    for j, i in enumerate(bad_list):
        parts = []
        for field_name, mask, msg in masks:
            if mask[j]:
                v = raw_values.get(field_name, [None] * len(bad_list))[j]
                first = number(dup_of.get(i, 0))
                parts.append(f"{field_name}: {msg.format(v=repr(v), first=first)}")
        reasons.append(f"row {number(i)}: " + "; ".join(parts))
    rejected_cols = {name: pc.take(as_text(table[name]), bad_idx) for name in table.column_names}
    rejected_cols["row_number"] = pa.array([number(i) for i in bad_list], pa.int64())
    rejected_cols["reason"] = pa.array(reasons, pa.string())
    return pa.table(rejected_cols)


def totals(records: pa.Table) -> tuple[dict[str, str], dict[str, str]]:
    """Exact totals of quantity per unit and cost per currency (decimal strings)."""
    qty: dict[str, str] = {}
    cost: dict[str, str] = {}
    if records.num_rows:
        for row in records.group_by("unit").aggregate([("quantity", "sum")]).to_pylist():
            qty[row["unit"]] = str(row["quantity_sum"])
        with_cost = records.filter(pc.is_valid(records["cost"]))
        if with_cost.num_rows:
            grouped = with_cost.group_by("currency").aggregate([("cost", "sum")])
            for row in grouped.to_pylist():
                cost[row["currency"]] = str(row["cost_sum"])
    return dict(sorted(qty.items())), dict(sorted(cost.items()))
