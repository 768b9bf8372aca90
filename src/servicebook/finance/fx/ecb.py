"""Reading the European Central Bank's euro reference rates (pure: no Django).

The ECB publishes one CSV a day (``eurofxref.csv``) and the whole history
(``eurofxref-hist.csv``) in the same shape: a header ``Date, USD, JPY, …`` (with a trailing
comma), then one row a business day, newest first, giving how many units of each currency one
euro buys. The daily file writes dates as ``30 October 2026``, the history as ``2026-10-30``;
a currency not quoted that day is ``N/A`` (the history keeps columns of currencies the euro
replaced, empty for years).

:func:`read_ecb` returns every rate it could read and every value it rejected with its row,
field and reason, so that *read = imported + rejected* holds for the values read. ``N/A`` and
empty cells are not rates (counted as ``not_quoted``); a column whose header is not a currency
we know is skipped as a whole and named once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

#: the largest rate kept (6 places, 20 digits: core.money's RATE_DIGITS / RATE_PLACES)
MAX_RATE = Decimal("99999999999999")


class EcbFormatError(ValueError):
    """The file is not an ECB reference rate CSV at all (no ``Date`` column)."""


@dataclass(frozen=True)
class EcbRate:
    date: dt.date
    currency: str
    rate: Decimal  # units of ``currency`` for one euro
    row: int


@dataclass(frozen=True)
class EcbReject:
    row: int
    field: str
    value: str
    reason: str


@dataclass
class EcbFile:
    rates: list[EcbRate] = field(default_factory=list)
    rejects: list[EcbReject] = field(default_factory=list)
    not_quoted: int = 0
    skipped_columns: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def read(self) -> int:
        return len(self.rates) + len(self.rejects)


def parse_date(text: str) -> dt.date:
    """``2026-10-30`` (history) or ``30 October 2026`` (daily file)."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or '30 October 2026')")


def parse_rate(text: str) -> Decimal:
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"{text.strip()} is not a positive rate")
    if rate > MAX_RATE:
        raise ValueError(f"{text.strip()} is too large for a rate")
    kept = rate.quantize(Decimal("0.000001"))
    if kept <= 0:
        raise ValueError(f"{text.strip()} is 0 to the 6 decimals a rate keeps: not a positive rate")
    return kept


def _day_refusal(day: dt.date, latest: dt.date | None, seen: dict[dt.date, int]) -> str:
    if latest and day > latest:
        return f"{day.isoformat()} is after today: reference rates are published for past days"
    if day in seen:
        return f"{day.isoformat()} is in the file already (row {seen[day]})"
    return ""


def read_ecb(
    text: str,
    *,
    known: set[str] | frozenset[str],
    base: str = "EUR",
    first: dt.date | None = None,
    last: dt.date | None = None,
    currencies: set[str] | None = None,
    latest: dt.date | None = None,
) -> EcbFile:
    """Read an ECB reference rate CSV; keep rows from ``first`` to ``last`` and the columns of
    ``currencies`` when given (the demo loads a few months of a few currencies). A day after
    ``latest`` (today: no rate is published ahead) and a day met twice are rejected."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [cell.strip() for cell in next(rows, [])]
    if not header or header[0].lower() != "date":
        raise EcbFormatError(
            "not an ECB reference rate file: the first column of the header must be 'Date' "
            "(then one column per currency: Date, USD, JPY, …)"
        )
    result = EcbFile()
    seen: dict[dt.date, int] = {}
    columns: list[tuple[int, str]] = []
    for index, name in enumerate(header[1:], start=1):
        code = name.upper()
        if not code:
            continue  # the trailing comma
        if currencies is not None and code not in currencies:
            continue
        if code == base or code not in known:
            result.skipped_columns.append(code)
            continue
        columns.append((index, code))
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = [(code, cells[i].strip() if i < len(cells) else "") for i, code in columns]
        quoted = [(code, value) for code, value in values if value and value.upper() != "N/A"]
        try:
            day = parse_date(cells[0])
        except ValueError as error:
            result.rows += 1
            result.not_quoted += len(values) - len(quoted)
            result.rejects.extend(
                EcbReject(number, "Date", cells[0].strip(), f"{error}; rate {code} not kept")
                for code, _ in quoted
            )
            continue
        if (first and day < first) or (last and day > last):
            continue
        result.rows += 1
        result.not_quoted += len(values) - len(quoted)
        refusal = _day_refusal(day, latest, seen)
        if refusal:
            result.rejects.extend(
                EcbReject(number, "Date", cells[0].strip(), f"{refusal}; rate {code} not kept")
                for code, _ in quoted
            )
            continue
        seen[day] = number
        for code, value in quoted:
            try:
                result.rates.append(EcbRate(day, code, parse_rate(value), number))
            except ValueError as error:
                result.rejects.append(EcbReject(number, code, value, str(error)))
    return result
