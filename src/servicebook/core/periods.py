"""Periods: the calendar month, written ``YYYY-MM``, that closes, reports, targets and budgets use.

The one place a period is parsed, checked and turned into dates. Pure Python (no Django import),
so kernels (the SLA clock, rating) may use it too; callers turn :class:`PeriodError` into their
own error (a form or model ``ValidationError``, an API 400, a 404 for a page's path, a CLI exit).

A period is valid in years 1900 to 2999: a business calendar holds them, and the start of the
month after the last one (3000-01-01) is still a date every database and library can hold, where
``9999-12`` would overflow date arithmetic.

- :func:`is_period`, :func:`check_period`, :func:`parse_period`: is it one, and which month;
- :func:`period_of`: the period of a date;
- :func:`period_dates` (first and last day, inclusive) and :func:`period_bounds` (the half-open
  ``[start, end)`` instants in a time zone, UTC by default);
- :func:`shift_period`, :func:`next_period`, :func:`previous_period`, :func:`period_range`,
  :func:`periods_ending`: moving between months.
"""

from __future__ import annotations

import datetime as dt
import re

#: a month written YYYY-MM, in years a business calendar can hold (next month's start included)
PERIOD_RE = re.compile(r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$")
FIRST_YEAR = 1900
LAST_YEAR = 2999


class PeriodError(ValueError):
    """A value that is not a period: a month written ``YYYY-MM`` in years 1900 to 2999."""


def is_period(value: object) -> bool:
    """Whether ``value`` is a month written YYYY-MM (years 1900 to 2999)."""
    return isinstance(value, str) and PERIOD_RE.match(value) is not None


def check_period(value: object) -> str:
    """``value`` itself when it is a period, else :class:`PeriodError` saying what is expected."""
    if not is_period(value):
        raise PeriodError(f"{value!r} is not a period: use YYYY-MM, e.g. 2026-10")
    return value  # type: ignore[return-value]  # is_period: a str


def parse_period(value: object) -> tuple[int, int]:
    """``(year, month)`` of a period; :class:`PeriodError` when ``value`` is not one."""
    text = check_period(value)
    return int(text[:4]), int(text[5:7])


def _label(index: int) -> str:
    """The period of a month number (``year * 12 + month - 1``)."""
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise PeriodError(f"year {year} cannot be written YYYY-MM")
    return f"{year:04d}-{month + 1:02d}"


def _index(period: str) -> int:
    year, month = parse_period(period)
    return year * 12 + month - 1


def period_of(day: dt.date) -> str:
    """The period a date (or a datetime, by its own wall-clock date) falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def first_day(period: str) -> dt.date:
    year, month = parse_period(period)
    return dt.date(year, month, 1)


def period_dates(period: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of a period (both inclusive)."""
    year, month = parse_period(period)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), following - dt.timedelta(days=1)


def period_bounds(period: str, tz: dt.tzinfo = dt.UTC) -> tuple[dt.datetime, dt.datetime]:
    """The half-open ``[start, end)`` of a period as aware datetimes: midnight of its first day
    and of the first day of the next month, on the wall clock of ``tz`` (UTC by default)."""
    year, month = parse_period(period)
    start = dt.datetime(year, month, 1, tzinfo=tz)
    return start, dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)


def shift_period(period: str, months: int) -> str:
    """The period ``months`` months after ``period`` (before it when negative).

    The result is not limited to years 1900-2999 (a window may reach before 1900), only to
    what YYYY-MM can write.
    """
    return _label(_index(period) + months)


def next_period(period: str) -> str:
    return shift_period(period, 1)


def previous_period(period: str) -> str:
    return shift_period(period, -1)


def period_range(first: str, last: str) -> list[str]:
    """Every period from ``first`` to ``last``, both included (empty when ``last`` is earlier)."""
    return [_label(i) for i in range(_index(first), _index(last) + 1)]


def periods_ending(period: str, count: int) -> list[str]:
    """The ``count`` periods ending with ``period``, oldest first (a report's window)."""
    end = _index(period)
    return [_label(i) for i in range(end - count + 1, end + 1)]
