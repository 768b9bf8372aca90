"""Reading usage files: CSV (every column as text) or Parquet, and exact parsing of their text.

Pure (Arrow, no Django). Values never go through floating point: text is parsed straight into
Arrow decimal128. Timestamps are ISO 8601; without an offset they are taken as UTC
(``2024-09-01 00:00:00`` is accepted). A CSV row with the wrong number of fields, text that is not
UTF-8 or more than :data:`ROW_LIMIT` bytes is listed with its data row number (1-based, the header
not counted) so that the importer rejects that row, never the file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

UTC = dt.UTC
TS_TYPE = pa.timestamp("us", tz="UTC")


_NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"


_TS_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$"


_ZONE_RE = r"(Z|[+-]\d{2}:?\d{2})$"


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
