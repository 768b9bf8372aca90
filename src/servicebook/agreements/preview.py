"""A calendar's coming days as the service level clock counts them: each day's business hours,
or the holiday or closure that leaves it without any (the calendar page's preview).

The hours come from the same kernel the service levels are measured with
(:class:`servicebook.agreements.calendar.BusinessClock`); only the holiday's name is asked of the
``holidays`` package here, with the calendar's own country and subdivision.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
from holidays.registry import COUNTRIES

from servicebook.agreements.calendar import BusinessClock
from servicebook.agreements.models import Calendar

PREVIEW_DAYS = 14
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class PreviewDay:
    day: dt.date
    windows: tuple[str, ...]  # local "08:00–12:00"
    hours: Decimal  # business hours that day (real time: DST days count what they last)
    holiday: str  # the public holiday's or own closed date's name, or ""

    @property
    def status(self) -> str:
        """What the day is, in words: its hours, "holiday: <name>" or "closed"."""
        if self.windows:
            return ", ".join(self.windows)
        if self.holiday:
            return f"holiday: {self.holiday}"
        return "closed"


def _local_clock(moment: dt.datetime, day: dt.date) -> str:
    if moment.date() > day:
        return "24:00"
    return f"{moment:%H:%M}"


def _holiday_names(calendar: Calendar, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    names: dict[dt.date, str] = {}
    if calendar.holiday_country:
        years = range(first.year, last.year + 1)
        found = holidays.country_holidays(
            calendar.holiday_country, subdiv=calendar.holiday_subdivision or None, years=years
        )
        names.update(found.items())
    for value in calendar.extra_holidays or []:
        day = dt.date.fromisoformat(value)
        names[day] = calendar.own_date_name(day) or "the calendar's own closed date"
    return names


def preview(calendar: Calendar, start: dt.date, days: int = PREVIEW_DAYS) -> list[PreviewDay]:
    """``days`` local days of ``calendar`` from ``start``: hours, windows and holidays."""
    zone = ZoneInfo(calendar.time_zone)
    dates = [start + dt.timedelta(days=offset) for offset in range(days)]
    bounds = [
        int(dt.datetime.combine(day, dt.time(0), zone).timestamp())
        for day in [*dates, dates[-1] + dt.timedelta(days=1)]
    ]
    clock = BusinessClock.build(calendar.to_engine(), bounds[0], bounds[-1])
    spans = list(zip(clock.starts.tolist(), clock.ends.tolist(), strict=True))
    names = _holiday_names(calendar, dates[0], dates[-1])
    result = []
    for index, day in enumerate(dates):
        lo, hi = bounds[index], bounds[index + 1]
        pieces = [(max(s, lo), min(e, hi)) for s, e in spans if s < hi and e > lo]
        windows = tuple(
            f"{_local_clock(dt.datetime.fromtimestamp(s, zone), day)}–"
            f"{_local_clock(dt.datetime.fromtimestamp(e, zone), day)}"
            for s, e in pieces
        )
        seconds = sum(e - s for s, e in pieces)
        hours = (Decimal(seconds) / 3600).quantize(Decimal("0.01"))
        result.append(PreviewDay(day, windows, hours, names.get(day, "")))
    return result


def _spaced(name: str) -> str:
    """``"AlandIslands"`` → ``"Aland Islands"`` (the ``holidays`` registry's class names)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


@functools.cache
def holiday_countries() -> tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]:
    """(code, name, ((subdivision code, name), …)) of every country the ``holidays`` package
    knows, by name."""
    supported = holidays.list_supported_countries()
    found = []
    for class_name, code, *_ in COUNTRIES.values():
        if code not in supported:
            continue
        subdivisions = tuple(supported[code])
        names: dict[str, str] = {}
        if subdivisions:
            aliases = holidays.country_holidays(code).subdivisions_aliases
            for alias, sub in aliases.items():
                if len(alias) > len(names.get(sub, "")) and alias != sub:
                    names[sub] = alias
        found.append((code, _spaced(class_name), tuple((s, names.get(s, s)) for s in subdivisions)))
    return tuple(sorted(found, key=lambda country: country[1]))


def holiday_place(calendar: Calendar) -> str:
    """Whose public holidays the calendar closes on, in words ("Germany, Berlin"), or ""."""
    if not calendar.holiday_country:
        return ""
    for code, name, subdivisions in holiday_countries():
        if code == calendar.holiday_country:
            region = dict(subdivisions).get(calendar.holiday_subdivision, "")
            return f"{name}, {region}" if region else name
    return calendar.holiday_country


def describe_windows(calendar: Calendar) -> list[tuple[str, str]]:
    """(weekday, its working windows in words, or "closed") for Monday to Sunday."""
    engine = calendar.to_engine()
    rows = []
    for number, day in enumerate(WEEKDAYS):
        spans = [
            f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
            for start, end in engine.window_list(number)
        ]
        rows.append((day, ", ".join(spans) or "closed"))
    return rows
