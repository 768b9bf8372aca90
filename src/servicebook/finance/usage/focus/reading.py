"""Reading FOCUS files: the spec's columns, whole-file reading (a bad value refuses the file) and
row-by-row reading (a bad value rejects its row), tags, and the bill's currency."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from servicebook.finance.usage.reading import (
    CsvProblems,
    as_text,
    parse_decimals,
    parse_utc_timestamps,
    read_raw,
)

#: decimal type of every FOCUS money, price and quantity column (15 fractional digits)
FOCUS_DECIMAL = pa.decimal128(38, 15)


DECIMAL_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "ConsumedQuantity",
    "PricingQuantity",
    "CommitmentDiscountQuantity",
)


TIMESTAMP_COLUMNS = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
)


REQUIRED_COLUMNS = ("BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd")


#: spec spelling of enumerated values, by column (matched case-insensitively)
ENUMS: dict[str, tuple[str, ...]] = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "CommitmentDiscountStatus": ("Used", "Unused"),
    "CommitmentDiscountCategory": ("Spend", "Usage"),
}


class FocusFormatError(ValueError):
    """A FOCUS file cannot be read (missing column, non-numeric money...)."""


def read_focus(source: str | Path | pa.Table) -> pa.Table:
    """Read a FOCUS cost-and-usage file (CSV or Parquet) or normalise an Arrow table.

    Money, price and quantity columns become decimal(38, 15); the four period columns become
    timestamp[us, UTC]; enumerations are normalised to the spec's casing; every other column is
    text (``Tags`` stays a JSON string -- see :func:`tag_values`).  Raises
    :class:`FocusFormatError` naming the column and row of the first bad value.
    """
    table = source if isinstance(source, pa.Table) else read_raw(source)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise FocusFormatError(f"not a FOCUS file: missing column(s) {', '.join(missing)}")
    columns = {}
    for name in table.column_names:
        text = as_text(table[name])
        if name in DECIMAL_COLUMNS:
            if pa.types.is_decimal(table[name].type) and table[name].type.scale <= 15:
                columns[name] = pc.cast(table[name], FOCUS_DECIMAL)
                continue
            values, bad, too_precise = parse_decimals(text, FOCUS_DECIMAL)
            problem = pc.or_(bad, too_precise)
            if pc.any(problem).as_py():
                row = pc.indices_nonzero(problem)[0].as_py()
                raise FocusFormatError(
                    f"row {row + 1}: {name}: {text[row].as_py()!r} is not a decimal with at most"
                    " 15 fractional digits"
                )
            columns[name] = values
        elif name in TIMESTAMP_COLUMNS:
            values, bad = parse_utc_timestamps(text)
            if pc.any(bad).as_py():
                row = pc.indices_nonzero(bad)[0].as_py()
                raise FocusFormatError(
                    f"row {row + 1}: {name}: {text[row].as_py()!r} is not a timestamp"
                )
            columns[name] = values
        elif name in ENUMS:
            columns[name] = _spec_spelling(name, text)
        else:
            columns[name] = text
    return pa.table(columns)


def read_focus_rows(source: str | Path | pa.Table) -> tuple[pa.Table, pa.Table, list[list[str]]]:
    """Read a FOCUS file row by row: a bad value rejects its row, never the file.

    Returns ``(table, raw_text, problems)``: the table as :func:`read_focus` would give it, with
    unreadable cells left null; the raw values as text (for the rejects file); and per row the
    list of problems (empty: the row is readable).  Only a missing required *column* is a
    file-level error (:class:`FocusFormatError`).
    """
    table = source if isinstance(source, pa.Table) else read_raw(source)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise FocusFormatError(f"not a FOCUS file: missing column(s) {', '.join(missing)}")
    n = table.num_rows
    problems: list[list[str]] = [[] for _ in range(n)]

    def flag(mask: pa.Array, message: str, text: pa.Array) -> None:
        for i in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            problems[i].append(message.format(v=repr(text[i].as_py())))

    raw_text = {}
    columns = {}
    for name in table.column_names:
        text = as_text(table[name])
        raw_text[name] = text
        if name in DECIMAL_COLUMNS:
            if pa.types.is_decimal(table[name].type) and table[name].type.scale <= 15:
                columns[name] = pc.cast(table[name], FOCUS_DECIMAL)
                continue
            values, bad, too_precise = parse_decimals(text, FOCUS_DECIMAL)
            flag(bad, f"{name}: {{v}} is not a number", text)
            flag(too_precise, f"{name}: {{v}} has more than 15 decimal places", text)
            columns[name] = values
        elif name in TIMESTAMP_COLUMNS:
            values, bad = parse_utc_timestamps(text)
            flag(bad, f"{name}: {{v}} is not a timestamp", text)
            columns[name] = values
        elif name in ENUMS:
            columns[name] = _spec_spelling(name, text)
        else:
            columns[name] = text
    for name in ("BilledCost", "BillingCurrency", "ChargePeriodStart"):
        flag(pc.is_null(raw_text[name]), f"{name}: missing", raw_text[name])
    return pa.table(columns), pa.table(raw_text), problems


def _spec_spelling(name: str, text: pa.Array) -> pa.Array:
    """An enumerated column in the spec's spelling (matched case-insensitively; others kept)."""
    spelling = {v.lower(): v for v in ENUMS[name]}
    keys = pa.array(list(spelling), pa.string())
    idx = pc.index_in(pc.utf8_lower(text), value_set=keys)
    canonical = pc.take(pa.array(list(spelling.values()), pa.string()), idx)
    return pc.if_else(pc.is_null(idx), text, canonical)


def tag_values(table: pa.Table, key: str) -> list[str | None]:
    """Value of tag ``key`` per row (``Tags`` is a JSON object as text; null when absent)."""
    if "Tags" not in table.column_names:
        return [None] * table.num_rows
    out: list[str | None] = []
    cache: dict[str, dict[str, Any]] = {}
    for raw in table["Tags"].to_pylist():
        if raw is None:
            out.append(None)
            continue
        tags = cache.get(raw)
        if tags is None:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {}
            tags = parsed if isinstance(parsed, dict) else {}
            cache[raw] = tags
        value = tags.get(key)
        out.append(None if value is None else str(value))
    return out


def exact_text(value: Decimal) -> str:
    """An exact decimal as plain text without trailing zeros (``20.52022672899``, ``0``)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _bill_columns(path: str | Path, names: tuple[str, ...], *, required: bool) -> dict[str, list]:
    """Some columns of a FOCUS file as text, without reading the rest: all of them when
    ``required`` (else refused as not FOCUS), else those it has."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        present = [n for n in names if n in pq.read_schema(path).names]
        table = pq.read_table(path, columns=present)
    else:
        import pyarrow.csv as pacsv

        try:
            table = pacsv.read_csv(
                path,
                # a row with the wrong number of fields is rejected by the import, not here
                parse_options=pacsv.ParseOptions(
                    newlines_in_values=True, invalid_row_handler=lambda row: "skip"
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=list(names),
                    include_missing_columns=not required,
                    column_types={name: pa.string() for name in names},
                    null_values=["", "NULL"],
                    strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid:
            # text that is not UTF-8 or a row longer than Arrow's block: read it row by row
            # (such rows are rejected by the import, not here)
            try:
                table = read_raw(path, CsvProblems())
            except ValueError as exc:
                raise FocusFormatError(f"not a FOCUS file: {exc}") from exc
    missing = [n for n in names if n not in table.column_names]
    if required and missing:
        raise FocusFormatError(f"not a FOCUS file: no {missing[0]} column")
    return {n: as_text(table[n]).to_pylist() for n in names if n not in missing}


def bill_currency(path: str | Path) -> str | None:
    """The most common ``BillingCurrency`` of a FOCUS file (reads that one column)."""
    values = _bill_columns(path, ("BillingCurrency",), required=True)["BillingCurrency"]
    return most_common(value.upper() for value in values if value)


def bill_months(path: str | Path) -> list[str]:
    """The months (``YYYY-MM``) a FOCUS file charges: each row's ``BillingPeriodStart``, else its
    ``ChargePeriodStart``, as the import charges them (reads those two columns)."""
    columns = _bill_columns(path, ("BillingPeriodStart", "ChargePeriodStart"), required=False)
    rows = max((len(values) for values in columns.values()), default=0)
    billing = columns.get("BillingPeriodStart") or [None] * rows
    charge = columns.get("ChargePeriodStart") or [None] * rows
    months = {(b or c or "")[:7] for b, c in zip(billing, charge, strict=True)}
    return sorted(m for m in months if len(m) == 7 and m[4] == "-" and m[:4].isdigit())


def most_common(values) -> str | None:
    """The value met most often (ties: the first in sorted order), None without any."""
    counted: dict[str, int] = {}
    for value in values:
        if value:
            counted[value] = counted.get(value, 0) + 1
    return max(sorted(counted), key=lambda c: counted[c]) if counted else None
