"""The usage store: metered usage kept as Parquet, partitioned by month, imported idempotently.

A provider meters VM hours, storage GB-months, seats and API calls -- hundreds of millions of
records a month.  They arrive as files (CSV or Parquet) from metering pipelines and cloud bills.
This module validates such a file against the catalogue the caller knows (customers, offerings and
their units), splits it into accepted records and rejected rows with a reason for each, and
appends the accepted records to a store on disk::

    <root>/period=2024-09/part-<file hash>.parquet     usage records of September 2024
    <root>/_manifest.json                              one entry per import
    <root>/_rejects/<file hash>.csv                    rejected rows of an import

Guarantees
----------
* Atomic writes: every file is written to a temporary name in its final directory and moved into
  place with :func:`os.replace`; the manifest is written last.  A crash leaves either the old
  state or a part file that the next import of the same file overwrites.
* Idempotent: importing the same file again (same SHA-256) changes nothing; a record whose
  ``record_id`` is already stored (in the same period) is skipped, not duplicated.
* Accounting: ``rows_read == rows_imported + rows_skipped_duplicate + rows_rejected``, always.
* One writer at a time per store (an advisory ``fcntl`` lock on ``<root>/.lock``).

Record schema (:data:`STORE_SCHEMA`)
------------------------------------
``record_id`` string, ``customer_id`` int64, ``offering_id`` int64,
``quantity`` decimal(18, 6) -- micro-units, up to 10^12 per record --, ``unit`` string (the
offering's canonical unit), ``start_time`` / ``end_time`` timestamp[us, UTC], ``source`` string,
``tags`` string (a JSON object, or null), ``cost`` decimal(38, 15) and ``currency`` string (both
optional; filled for cloud-bill rows), ``import_hash`` string (SHA-256 of the file).
Values never go
through floating point: text is parsed straight into Arrow decimal128.

Raw input columns
-----------------
``record_id``, ``customer`` (or ``customer_key`` / ``customer_id``), ``offering`` (or
``offering_code`` / ``offering_id``), ``quantity``, ``unit``, ``start_time``, ``end_time`` are
required; ``source``, ``tags``, ``cost``, ``currency`` are optional.  Timestamps are ISO 8601;
without an offset they are taken as UTC (``2024-09-01 00:00:00`` is accepted).  ``row_number`` in
rejects is the 1-based data row (the CSV line number minus one for the header).  A CSV row with
the wrong number of fields is rejected like any other bad row (``row 7: has 5 fields, the
header has 8``), with its text in the reason; the rest of the file is read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

UTC = dt.UTC

QUANTITY_TYPE = pa.decimal128(18, 6)
COST_TYPE = pa.decimal128(38, 15)
TS_TYPE = pa.timestamp("us", tz="UTC")

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

_NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_TS_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$"
_ZONE_RE = r"(Z|[+-]\d{2}:?\d{2})$"


# --------------------------------------------------------------------------- parsing helpers


#: The most a CSV row may hold (the bytes of its fields). Arrow reads a CSV in blocks
#: (:data:`BLOCK_SIZE`); a longer row could straddle blocks ("straddling object"), so it is
#: rejected with its row number and this limit instead, and the rest of the file is read.
ROW_LIMIT = 1 << 20  # 1 MiB
BLOCK_SIZE = 4 << 20  # Arrow's block: comfortably more than the longest row accepted


@dataclass
class MalformedRow:
    """A CSV row that could not be read: the wrong number of fields, text that is not UTF-8,
    or more than :data:`ROW_LIMIT` bytes."""

    row: int  # 1-based data row (the header is not counted)
    fields: int
    expected: int
    text: str
    problem: str = ""  # set for a problem other than the number of fields

    @property
    def reason(self) -> str:
        if self.problem:
            return f"row {self.row}: {self.problem}"
        return (
            f"row {self.row}: has {self.fields} field{'s' if self.fields != 1 else ''},"
            f" the header has {self.expected}: {self.text!r}"
        )


@dataclass
class CsvProblems:
    """What :func:`read_raw` skipped: malformed rows, and the data row number of every row read
    (``None`` when nothing was skipped, so that row i is data row i + 1)."""

    malformed: list[MalformedRow] = field(default_factory=list)
    row_numbers: list[int] | None = None


def _convert_options(header: list[str]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        null_values=["", "NULL"],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )


def _read_header(path: Path) -> list[str]:
    import csv

    with path.open("rb") as fh:
        first = fh.readline()
    text = first.decode("utf-8-sig", errors="surrogateescape")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{path.name}: the header row is not UTF-8 text (byte "
            f"0x{ord(text[exc.start]) & 0xFF:02X} at character {exc.start + 1}); save the file "
            "as UTF-8"
        ) from None
    header = next(csv.reader([text]), None)
    if not header:
        raise ValueError(f"{path}: empty file, expected a header row")
    return header


def _too_long(table: pa.Table) -> bool:
    """Whether a row of ``table`` (all text) holds more than :data:`ROW_LIMIT` bytes."""
    if not table.num_rows or not table.num_columns:
        return False
    sizes = None
    for column in table.columns:
        length = pc.fill_null(pc.binary_length(column), 0)
        sizes = length if sizes is None else pc.add(sizes, length)
    return (pc.max(sizes).as_py() or 0) > ROW_LIMIT


def _shown(text: str, limit: int = 200) -> str:
    """A row's text for the rejects file: undecodable bytes as U+FFFD, long text cut."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _row_problem(record: list[str], header: list[str]) -> str:
    """Why a row with the header's number of fields cannot be read (empty: it can)."""
    size = 0
    for name, value in zip(header, record, strict=True):
        try:
            size += len(value.encode("utf-8"))
        except UnicodeEncodeError as exc:
            byte = ord(value[exc.start]) & 0xFF
            return (
                f"not UTF-8 text: column {name!r} has the byte 0x{byte:02X} at character "
                f"{exc.start + 1}; save the file as UTF-8"
            )
    if size > ROW_LIMIT:
        longest = max(
            zip(header, record, strict=True), key=lambda pair: len(pair[1].encode("utf-8"))
        )
        return (
            f"{size:,} bytes, over the limit of {ROW_LIMIT:,} bytes a row (column "
            f"{longest[0]!r} alone holds {len(longest[1].encode('utf-8')):,} bytes)"
        )
    return ""


def _read_exactly(path: Path, header: list[str], problems: CsvProblems | None) -> pa.Table:
    """Read ``path`` row by row (Python's csv, undecodable bytes kept): rows with the wrong
    number of fields, text that is not UTF-8 or more than :data:`ROW_LIMIT` bytes are listed in
    ``problems`` with their data row number; the others are read by Arrow. Without ``problems``
    the first such row refuses the whole file, naming the row (and the limit)."""
    import csv
    import sys

    previous = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # an oversized field is reported below, not by csv
    good: list[int] = []
    malformed: list[MalformedRow] = []
    handle, name = tempfile.mkstemp(suffix=".csv", prefix="servicebook-rows-")
    os.close(handle)
    clean = Path(name)
    number = 0
    try:
        with (
            path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as fh,
            clean.open("w", newline="", encoding="utf-8") as out,
        ):
            reader = csv.reader(fh)
            writer = csv.writer(out)
            writer.writerow(next(reader))
            for record in reader:
                if not record:  # blank line: not a row (Arrow skips it too)
                    continue
                number += 1
                if len(record) != len(header):
                    found = MalformedRow(number, len(record), len(header), _shown(",".join(record)))
                elif problem := _row_problem(record, header):
                    found = MalformedRow(
                        number, len(record), len(header), _shown(",".join(record)), problem
                    )
                else:
                    good.append(number)
                    writer.writerow(record)
                    continue
                if problems is None:
                    raise ValueError(f"{path.name}: {found.reason}")
                malformed.append(found)
        table = pacsv.read_csv(
            clean,
            read_options=pacsv.ReadOptions(encoding="utf8", block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=_convert_options(header),
        )
    except csv.Error as exc:
        raise ValueError(f"{path.name}: row {number + 1} cannot be read: {exc}") from None
    except pa.ArrowInvalid as exc:
        raise ValueError(f"{path.name}: {exc}") from exc
    finally:
        csv.field_size_limit(previous)
        clean.unlink(missing_ok=True)
    if problems is not None and malformed:
        problems.malformed.extend(malformed)
        problems.row_numbers = good
    return table


def read_raw(path: str | Path, problems: CsvProblems | None = None) -> pa.Table:
    """Read a CSV (every column as text; empty and ``NULL`` cells are null) or a Parquet file.

    A CSV row with the wrong number of fields, text that is not UTF-8, or more than
    :data:`ROW_LIMIT` bytes raises :class:`ValueError` naming the row -- unless ``problems`` is
    given: then the row is skipped and listed there with its data row number, and the rest is
    read. Arrow reads the file at full speed; only when it meets such a row is the file read
    again exactly, row by row, to number them.
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pq.read_table(path)
    header = _read_header(path)
    skipped: list[Any] = []

    def skip(row: Any) -> str:
        skipped.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8", block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=skip if problems is not None else None
            ),
            convert_options=_convert_options(header),
        )
    except pa.ArrowInvalid:
        # text that is not UTF-8, a row longer than a block, or (without ``problems``) a row
        # with the wrong number of fields: find and number them exactly
        return _read_exactly(path, header, problems)
    if skipped or _too_long(table):
        return _read_exactly(path, header, problems)
    return table


def as_text(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Values as trimmed text, empty text as null (floats via their shortest repr)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:
            arr = pc.assume_timezone(arr, "UTC")
        arr = pc.strftime(pc.cast(arr, TS_TYPE), format="%Y-%m-%dT%H:%M:%SZ")
    elif not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(pc.cast(arr, pa.string()))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def parse_decimals(text: pa.Array, typ: pa.Decimal128Type) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Parse text into exact decimals of ``typ``.

    Returns ``(values, non_numeric, too_precise)``: values is null where the text is null or
    invalid; ``non_numeric`` flags text that is not a plain decimal number; ``too_precise`` flags
    numbers with more fractional digits than ``typ.scale`` (after dropping trailing zeros) or more
    integer digits than fit.
    """
    present = pc.is_valid(text)
    numeric = pc.fill_null(pc.match_substring_regex(text, _NUMBER_RE), True)
    non_numeric = pc.and_(present, pc.invert(numeric))
    norm = pc.replace_substring_regex(text, r"^\+", "")
    norm = pc.replace_substring_regex(norm, r"^(-?)\.", r"\10.")
    norm = pc.replace_substring_regex(norm, r"(\.\d*?)0+$", r"\1")
    norm = pc.replace_substring_regex(norm, r"\.$", "")
    int_digits = typ.precision - typ.scale
    fits = pc.match_substring_regex(norm, rf"^-?\d{{1,{int_digits}}}(\.\d{{1,{typ.scale}}})?$")
    too_precise = pc.and_(pc.and_(present, numeric), pc.invert(pc.fill_null(fits, False)))
    ok = pc.and_(pc.and_(present, numeric), pc.invert(too_precise))
    values = pc.cast(pc.if_else(ok, norm, pa.scalar(None, pa.string())), typ)
    return values, non_numeric, too_precise


def parse_utc_timestamps(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Parse ISO 8601 text into timestamp[us, UTC]; naive values are UTC.

    Returns ``(values, invalid)`` where ``invalid`` flags non-null text that is not a timestamp.
    """
    present = pc.is_valid(text)
    shaped = pc.fill_null(pc.match_substring_regex(text, _TS_RE), False)
    null = pa.scalar(None, pa.string())
    try:
        zoned = pc.fill_null(pc.match_substring_regex(text, _ZONE_RE), False)
        naive_text = pc.if_else(pc.and_(shaped, pc.invert(zoned)), text, null)
        zoned_text = pc.if_else(pc.and_(shaped, zoned), text, null)
        naive = pc.assume_timezone(pc.cast(naive_text, pa.timestamp("us")), "UTC")
        aware = pc.cast(zoned_text, TS_TYPE)
        values = pc.if_else(zoned, aware, naive)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed: list[dt.datetime | None] = []
        for s, ok in zip(text.to_pylist(), shaped.to_pylist(), strict=True):
            value = None
            if s is not None and ok:
                try:
                    d = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
                    value = d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)
                except ValueError:
                    value = None
            parsed.append(value)
        values = pa.array(parsed, TS_TYPE)
    invalid = pc.and_(present, pc.is_null(values))
    return pc.cast(values, TS_TYPE), invalid


def period_of(ts: pa.Array) -> pa.Array:
    """``YYYY-MM`` (UTC) of each timestamp."""
    return pc.strftime(ts, format="%Y-%m")


def period_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC ``[start, end)`` of a ``YYYY-MM`` period."""
    import calendar

    try:
        year, month = (int(p) for p in period.split("-"))
        start = dt.datetime(year, month, 1, tzinfo=UTC)
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"period must look like 'YYYY-MM', got {period!r}") from exc
    return start, start + dt.timedelta(days=calendar.monthrange(year, month)[1])


# --------------------------------------------------------------------------- validation


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

    def number(i: int) -> int:
        return row_numbers[i] if row_numbers is not None else i + 1

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

    offer_map = {k: (o if isinstance(o, Offering) else Offering(*o)) for k, o in offerings.items()}
    checks: list[tuple[str, pa.Array, str]] = []  # (field, problem mask, message template)

    def check(field: str, mask: pa.Array, message: str) -> None:
        checks.append((field, pc.fill_null(mask, False), message))

    for name in REQUIRED:
        check(name, pc.is_null(text[name]), "missing required field")
    present = {name: pc.is_valid(text[name]) for name in REQUIRED}

    customer_keys = pa.array(list(customers), pa.string())
    customer_ids = pa.array(list(customers.values()), pa.int64())
    c_idx = pc.index_in(text["customer"], value_set=customer_keys)
    check("customer", pc.and_(present["customer"], pc.is_null(c_idx)), "unknown customer {v}")

    offering_keys = pa.array(list(offer_map), pa.string())
    o_idx = pc.index_in(text["offering"], value_set=offering_keys)
    check("offering", pc.and_(present["offering"], pc.is_null(o_idx)), "unknown offering {v}")
    offering_ids = pc.take(pa.array([o.id for o in offer_map.values()], pa.int64()), o_idx)
    offering_units = pc.take(pa.array([o.unit for o in offer_map.values()], pa.string()), o_idx)

    quantity, q_bad, q_precise = parse_decimals(text["quantity"], QUANTITY_TYPE)
    check("quantity", q_bad, "non-numeric quantity {v}")
    check("quantity", q_precise, "quantity {v} does not fit decimal(18, 6)")
    check(
        "quantity", pc.less(quantity, pa.scalar(Decimal(0), QUANTITY_TYPE)), "negative quantity {v}"
    )

    unit_mismatch = pc.not_equal(pc.utf8_lower(text["unit"]), pc.utf8_lower(offering_units))
    check("unit", unit_mismatch, "unit {v} is not the offering's unit")

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
    if closed_periods:
        closed = pc.is_in(period_of(start), value_set=pa.array(sorted(closed_periods), pa.string()))
        check("start_time", closed, "start_time {v} falls in a closed period")

    # JSON tags and duplicate record ids need Python, but only over the non-null values
    tags = text.get("tags", pa.nulls(n, pa.string()))
    bad_tags = [False] * n
    for i, value in enumerate(tags.to_pylist()):
        if value is not None:
            try:
                bad_tags[i] = not isinstance(json.loads(value), dict)
            except ValueError:
                bad_tags[i] = True
    check("tags", pa.array(bad_tags, pa.bool_()), "tags {v} are not a JSON object")
    first_seen: dict[str, int] = {}
    dup = [False] * n
    dup_of: dict[int, int] = {}
    for i, rid in enumerate(text["record_id"].to_pylist()):
        if rid is None:
            continue
        if rid in first_seen:
            dup[i] = True
            dup_of[i] = first_seen[rid]
        else:
            first_seen[rid] = i
    check("record_id", pa.array(dup, pa.bool_()), "duplicate record_id {v} (first at row {first})")

    any_problem = pa.array([False] * n, pa.bool_())
    for _, mask, _ in checks:
        any_problem = pc.or_(any_problem, mask)

    # reasons, only for rejected rows
    bad_idx = pc.indices_nonzero(any_problem)
    bad_list = bad_idx.to_pylist()
    raw_values = {name: pc.take(arr, bad_idx).to_pylist() for name, arr in text.items()}
    masks = [(f, pc.take(m, bad_idx).to_pylist(), msg) for f, m, msg in checks]
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
    rejected = pa.table(rejected_cols)

    ok = pc.invert(any_problem)
    sources = text.get("source", pa.nulls(n, pa.string()))
    sources = pc.fill_null(sources, source)
    accepted = pa.table(
        [
            text["record_id"],
            pc.take(customer_ids, c_idx),
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
    ).filter(ok)
    return ValidationResult(rows_read=n, accepted=accepted, rejected=rejected)


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


# --------------------------------------------------------------------------- store


@dataclass
class ImportSummary:
    """What one import did; also the manifest entry (decimals as strings)."""

    file_hash: str
    source: str
    periods: list[str]
    rows_read: int
    rows_imported: int
    rows_skipped_duplicate: int
    rows_rejected: int
    quantity_totals: dict[str, str] = field(default_factory=dict)  # unit -> total imported
    cost_totals: dict[str, str] = field(default_factory=dict)  # currency -> total imported
    rejects_path: str | None = None
    imported_at: str = ""
    already_imported: bool = False
    format: str = "csv"
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the FOCUS allocation report

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (the identity of an import)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` then move the temporary file over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class UsageStore:
    """Usage records as Parquet under ``root`` (the Django side passes ``var/usage/``)."""

    MANIFEST = "_manifest.json"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- reading
    def manifest(self) -> list[dict[str, Any]]:
        """All imports so far, oldest first."""
        path = self.root / self.MANIFEST
        if not path.exists():
            return []
        return json.loads(path.read_text(encoding="utf-8"))["imports"]

    def periods(self) -> list[str]:
        """Periods that hold records, sorted."""
        if not self.root.exists():
            return []
        return sorted(
            p.name.split("=", 1)[1]
            for p in self.root.glob("period=*")
            if p.is_dir() and any(p.glob("*.parquet"))
        )

    def parquet_glob(self, period: str) -> str:
        """Glob of the Parquet files of ``period`` -- pass it to :func:`rating.rate`."""
        return str(self.root / f"period={period}" / "*.parquet")

    def _files(self, period: str, exclude: str | None = None) -> list[Path]:
        files = sorted((self.root / f"period={period}").glob("part-*.parquet"))
        return [f for f in files if exclude is None or f.name != exclude]

    def read(self, period: str | None = None) -> pa.Table:
        """Records of one period (or of all periods), :data:`STORE_SCHEMA` + ``period``."""
        periods = [period] if period else self.periods()
        tables = []
        for p in periods:
            for f in self._files(p):
                t = pq.read_table(f, schema=STORE_SCHEMA)
                tables.append(t.append_column("period", pa.array([p] * t.num_rows, pa.string())))
        if not tables:
            return STORE_SCHEMA.append(pa.field("period", pa.string())).empty_table()
        return pa.concat_tables(tables)

    # -- writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def find_import(self, digest: str, entries: list[dict] | None = None) -> ImportSummary | None:
        """The summary of an earlier import of the file with this hash (nothing re-imported)."""
        for entry in self.manifest() if entries is None else entries:
            if entry["file_hash"] == digest:
                return ImportSummary(
                    file_hash=digest,
                    source=entry["source"],
                    periods=entry["periods"],
                    rows_read=entry["rows_read"],
                    rows_imported=0,
                    rows_skipped_duplicate=entry["rows_read"] - entry["rows_rejected"],
                    rows_rejected=entry["rows_rejected"],
                    rejects_path=entry["rejects_path"],
                    imported_at=entry["imported_at"],
                    already_imported=True,
                    format=entry.get("format", "csv"),
                    extra=entry.get("extra", {}),
                )
        return None

    def import_file(
        self,
        path: str | Path,
        *,
        source: str,
        customers: Mapping[str, int],
        offerings: Mapping[str, Offering | tuple[int, str]],
        period: str | None = None,
        currency: str | None = None,
        raw: pa.Table | None = None,
        customer_currencies: Mapping[str, str] | None = None,
        closed_periods: frozenset[str] | set[str] = frozenset(),
    ) -> ImportSummary:
        """Validate and import a usage file (CSV or Parquet); see :func:`validate`.

        ``raw`` may carry the rows already read/converted from ``path`` (the FOCUS importer does
        this); the file's hash is still the identity of the import.
        """
        digest = file_hash(path)
        with self._locked():
            entries = self.manifest()
            previous = self.find_import(digest, entries)
            if previous is not None:
                return previous
            problems = CsvProblems()
            table = raw if raw is not None else read_raw(path, problems)
            result = validate(
                table,
                customers=customers,
                offerings=offerings,
                period=period,
                currency=currency,
                source=source,
                import_hash=digest,
                customer_currencies=customer_currencies,
                closed_periods=closed_periods,
                row_numbers=problems.row_numbers,
            )
            if problems.malformed:
                result = with_malformed(result, problems.malformed)
            accepted = result.accepted
            part_name = f"part-{digest[:24]}.parquet"
            imported_parts: list[pa.Table] = []
            periods: list[str] = []
            skipped = 0
            if accepted.num_rows:
                rec_periods = period_of(accepted["start_time"])
                for p in sorted(set(rec_periods.to_pylist())):
                    part = accepted.filter(pc.equal(rec_periods, p))
                    # a part of this same file left by a crash is overwritten, not counted
                    existing = [
                        pq.read_table(f, columns=["record_id"])["record_id"]
                        for f in self._files(p, exclude=part_name)
                    ]
                    if existing:
                        ids = pa.chunked_array(existing).combine_chunks()
                        seen = pc.is_in(part["record_id"], value_set=ids)
                        skipped += pc.sum(seen).as_py() or 0
                        part = part.filter(pc.invert(seen))
                    if part.num_rows == 0:
                        continue
                    dest = self.root / f"period={p}" / part_name
                    _atomic_write(dest, lambda tmp, t=part: pq.write_table(t, tmp))
                    imported_parts.append(part)
                    periods.append(p)
            imported = (
                pa.concat_tables(imported_parts) if imported_parts else STORE_SCHEMA.empty_table()
            )
            rejects_path = None
            if result.rows_rejected:
                dest = self.root / "_rejects" / f"{digest[:24]}.csv"
                _atomic_write(dest, lambda tmp: pacsv.write_csv(result.rejected, tmp))
                rejects_path = str(dest)
            qty_totals, cost_totals = totals(imported)
            summary = ImportSummary(
                file_hash=digest,
                source=source,
                periods=periods,
                rows_read=result.rows_read,
                rows_imported=imported.num_rows,
                rows_skipped_duplicate=skipped,
                rows_rejected=result.rows_rejected,
                quantity_totals=qty_totals,
                cost_totals=cost_totals,
                rejects_path=rejects_path,
                imported_at=dt.datetime.now(UTC).isoformat(timespec="seconds"),
            )
            assert summary.rows_read == (
                summary.rows_imported + summary.rows_skipped_duplicate + summary.rows_rejected
            )
            self._record(entries, summary)
            return summary

    def _record(self, entries: list[dict[str, Any]], summary: ImportSummary) -> None:
        """Append ``summary`` to the manifest (written last, atomically; caller holds the lock)."""
        entries.append(summary.to_dict())
        payload = json.dumps({"version": 1, "imports": entries}, indent=1, sort_keys=True)
        _atomic_write(self.root / self.MANIFEST, lambda tmp: Path(tmp).write_text(payload, "utf-8"))

    def find(self, digest: str) -> dict[str, Any] | None:
        """The manifest entry of the file with SHA-256 ``digest``, if it was imported."""
        return next((e for e in self.manifest() if e["file_hash"] == digest), None)
