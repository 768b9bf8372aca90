"""Service level clock: due times with pauses, local months and ITIL priorities.

Built on the business-calendar kernel :mod:`servicebook.agreements.calendar` (working windows,
time zones, holidays, :class:`BusinessClock`); this module adds what service levels need.
Pure Python + numpy (no Django).

Pauses
    ``(ticket_index, pause_start, pause_end)`` arrays. Pauses are clipped to their
    ticket's ``[start, end]``, overlapping pauses of the same ticket are merged, and the
    paused time is measured in *business* time (a pause over a weekend costs nothing), then
    subtracted. Never double-counted.

Due time
    ``due(start, target)`` is the earliest instant ``t >= start`` with
    ``elapsed(start, t) == target`` (``target`` in business seconds, ``>= 0``); with
    ``target == 0`` it is ``start``.

:func:`loop_business_seconds` and :func:`loop_due` are the straightforward day-by-day per-ticket
loops used as test oracle and benchmark baseline.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import holidays
import numpy as np

from servicebook.agreements import calendar as business_calendar
from servicebook.agreements.calendar import (  # the business-calendar kernel
    _DAY,
    END_OF_DAY,
    MAX_DUE_HORIZON_YEARS,
    BusinessClock,
    Calendar,
    IntArray,
    Pauses,
    TimestampLike,
    _as_epoch_array,
    _clock_for_years,
    _targets,
    _utc_year,
    _utc_year_start,
    _wall_to_utc,
    _zone,
    _zone_segments,
    business_seconds,
    from_epoch,
    parse_window,
    to_epoch,
)

__all__ = [
    "DEFAULT_PRIORITY_MATRIX",
    "END_OF_DAY",
    "MAX_DUE_HORIZON_YEARS",
    "PRIORITY_LABELS",
    "BusinessClock",
    "Calendar",
    "Pauses",
    "PriorityMatrix",
    "business_seconds",
    "clear_caches",
    "due_at",
    "due_with_pauses",
    "from_epoch",
    "local_months",
    "loop_business_seconds",
    "loop_due",
    "month_index",
    "month_label",
    "month_starts",
    "parse_window",
    "priority",
    "to_epoch",
]


def clear_caches() -> None:
    """Drop cached clocks, holiday tables and time-zone segments (e.g. for benchmarks)."""
    business_calendar.clear_caches()
    _loop_holidays.cache_clear()


def due_at(calendar: Calendar, start: TimestampLike, target: Any) -> IntArray:
    """Deadline per ticket: ``start`` plus ``target`` business seconds, as UTC epoch seconds.

    The earliest instant ``t >= start`` with ``business_seconds(start, t) == target``.
    ``target`` is a scalar or an array (``int`` seconds or ``timedelta64``), ``>= 0``.
    Raises :class:`ValueError` when the calendar cannot provide the target within
    :data:`MAX_DUE_HORIZON_YEARS` years.
    """
    start = _as_epoch_array(start, "start")
    target = _targets(target, start.size)
    if start.size == 0:
        return np.zeros(0, dtype=np.int64)
    first_year, last_year = _utc_year(int(start.min())), _utc_year(int(start.max()))
    extra = 1
    while True:
        clock = _clock_for_years(calendar, first_year, last_year + extra)
        wanted = clock._position(start) + target
        if int(wanted.max()) <= clock.total:
            return clock._due(start, target, wanted)
        if extra >= MAX_DUE_HORIZON_YEARS:
            raise ValueError(
                f"target cannot be met within {MAX_DUE_HORIZON_YEARS} years: the calendar "
                f"({calendar.describe()}) has too little business time"
            )
        extra = min(extra * 2, MAX_DUE_HORIZON_YEARS)


def due_with_pauses(
    calendar: Calendar,
    start: TimestampLike,
    target: Any,
    pauses: Pauses | tuple[Any, Any, Any] | None = None,
) -> IntArray:
    """Deadline per ticket when paused time does not count against the target.

    The earliest instant ``t >= start`` with ``business_seconds(start, t, pauses) == target``:
    paused business time before the deadline pushes it back; pauses after it change nothing.
    Vectorized: the merged pauses of each ticket, in business coordinates, are walked with
    segmented cumulative sums (no per-ticket loop). Without pauses it is :func:`due_at`.
    """
    start = _as_epoch_array(start, "start")
    target = _targets(target, start.size)
    if pauses is None or start.size == 0:
        return due_at(calendar, start, target)
    pauses = Pauses(*pauses)
    p_end = _as_epoch_array(pauses.end, "pause ends")
    if p_end.size == 0:
        return due_at(calendar, start, target)
    horizon = max(int(start.max()), int(p_end.max()))
    clock = BusinessClock.for_span(calendar, int(start.min()), horizon)
    ends = np.full(start.size, horizon, dtype=np.int64)
    ticket, piece_start, length, new_group = clock._pause_pieces(start, ends, pauses)
    extra = np.zeros(start.size, dtype=np.int64)
    if ticket.size:
        group_first = np.flatnonzero(new_group)
        running = np.cumsum(length)
        group_offset = np.repeat(
            running[group_first] - length[group_first], np.diff(np.append(group_first, ticket.size))
        )
        before = running - length - group_offset  # paused business time before each piece
        net = piece_start - clock._position(start)[ticket] - before  # counted time at piece
        reached = net >= target[ticket]
        totals = np.add.reduceat(length, group_first)
        extra[ticket[group_first]] = totals
        previous_reached = np.zeros(ticket.size, dtype=bool)
        previous_reached[1:] = reached[:-1]
        first_reached = reached & (new_group | ~previous_reached)
        extra[ticket[first_reached]] = before[first_reached]
    return due_at(calendar, start, target + extra)


def local_months(tz: str, t: TimestampLike) -> IntArray:
    """The local calendar month of each instant in ``tz``, as months since 1970-01.

    Month ``m`` is ``f"{1970 + m // 12}-{m % 12 + 1:02d}"`` (see :func:`month_label`).
    """
    t = _as_epoch_array(t, "timestamps")
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = _utc_year(int(t.min())), _utc_year(int(t.max()))
    starts, offsets = _zone_segments(
        _zone(tz).key, _utc_year_start(first) - 2 * _DAY, _utc_year_start(last + 1) + 2 * _DAY
    )
    k = np.searchsorted(starts, t, side="right") - 1
    local = t + offsets[k]
    return local.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def month_starts(tz: str, months: Any) -> IntArray:
    """The first instant (UTC epoch seconds) of each local month (months since 1970-01)."""
    months = np.atleast_1d(np.asarray(months, dtype=np.int64)).ravel()
    if months.size == 0:
        return np.zeros(0, dtype=np.int64)
    wall = months.astype("datetime64[M]").astype("datetime64[s]").astype(np.int64)
    first, last = _utc_year(int(wall.min())), _utc_year(int(wall.max()))
    seg = _zone_segments(
        _zone(tz).key, _utc_year_start(first) - 2 * _DAY, _utc_year_start(last + 1) + 2 * _DAY
    )
    return _wall_to_utc(wall, *seg)


def month_label(month: int) -> str:
    """``"YYYY-MM"`` of a month index from :func:`local_months`."""
    return f"{1970 + int(month) // 12:04d}-{int(month) % 12 + 1:02d}"


def month_index(label: str) -> int:
    """The month index of ``"YYYY-MM"`` (inverse of :func:`month_label`)."""
    year, _, month = label.partition("-")
    if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
        raise ValueError(f"a period is written YYYY-MM, got {label!r}")
    return (int(year) - 1970) * 12 + int(month) - 1


# --------------------------------------------------------------------------- priority


#: ITIL/ServiceNow priority names.
PRIORITY_LABELS: Mapping[int, str] = {
    1: "Critical",
    2: "High",
    3: "Moderate",
    4: "Low",
    5: "Planning",
}


@dataclass(frozen=True)
class PriorityMatrix:
    """Priority as a function of impact x urgency (1 = highest for all three).

    ``cells`` maps every ``(impact, urgency)`` pair of a full grid to a priority ``>= 1``.
    The default, :data:`DEFAULT_PRIORITY_MATRIX`, is the usual ServiceNow 3x3 grid::

                    urgency 1     urgency 2     urgency 3
        impact 1    1 Critical    2 High        3 Moderate
        impact 2    2 High        3 Moderate    4 Low
        impact 3    3 Moderate    4 Low         4 Low
    """

    cells: Mapping[tuple[int, int], int]
    _table: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        items = dict(self.cells).items() if isinstance(self.cells, Mapping) else None
        if not items:
            raise ValueError("a priority matrix needs a non-empty {(impact, urgency): priority}")
        for key, value in items:
            if (
                not isinstance(key, tuple)
                or len(key) != 2
                or not all(_is_int(v) and v >= 1 for v in key)
            ):
                raise ValueError(f"matrix keys must be (impact, urgency) ints >= 1, got {key!r}")
            if not _is_int(value) or value < 1:
                raise ValueError(f"priority for {key} must be an int >= 1, got {value!r}")
        impacts = sorted({i for i, _ in dict(items)})
        urgencies = sorted({u for _, u in dict(items)})
        cells = dict(items)
        missing = [(i, u) for i in impacts for u in urgencies if (i, u) not in cells]
        if missing:
            raise ValueError(f"priority matrix is not a full grid: missing {missing}")
        table = np.zeros((impacts[-1] + 1, urgencies[-1] + 1), dtype=np.int64)
        for (i, u), p in cells.items():
            table[i, u] = p
        object.__setattr__(self, "cells", tuple(sorted(cells.items())))
        object.__setattr__(self, "_table", table)

    def _pairs(self) -> tuple[tuple[tuple[int, int], int], ...]:
        """The cells as ``__post_init__`` stored them: sorted ``((impact, urgency), priority)``."""
        return cast(tuple[tuple[tuple[int, int], int], ...], self.cells)

    def as_dict(self) -> dict[tuple[int, int], int]:
        """The matrix as ``{(impact, urgency): priority}``."""
        return dict(self._pairs())

    def priority(self, impact: int, urgency: int) -> int:
        """Priority of one ``(impact, urgency)``; :class:`ValueError` if not in the matrix."""
        if not (_is_int(impact) and _is_int(urgency)):
            raise ValueError(f"impact and urgency must be ints, got {impact!r}, {urgency!r}")
        return int(self.priorities([impact], [urgency])[0])

    def priorities(self, impact: Any, urgency: Any) -> IntArray:
        """Vectorized :meth:`priority` over arrays of impacts and urgencies."""
        imp = np.atleast_1d(np.asarray(impact))
        urg = np.atleast_1d(np.asarray(urgency))
        if (imp.size and imp.dtype.kind not in "iu") or (urg.size and urg.dtype.kind not in "iu"):
            raise ValueError("impact and urgency must be integers")
        imp, urg = np.broadcast_arrays(imp.astype(np.int64), urg.astype(np.int64))
        rows, cols = self._table.shape
        inside = (imp >= 0) & (imp < rows) & (urg >= 0) & (urg < cols)
        result = np.zeros(imp.shape, dtype=np.int64)
        result[inside] = self._table[imp[inside], urg[inside]]
        if np.any(result == 0):
            i = np.flatnonzero(result.ravel() == 0)[0]
            bad = (int(imp.ravel()[i]), int(urg.ravel()[i]))
            raise ValueError(
                f"(impact, urgency) {bad} is not in the priority matrix "
                f"(impacts {sorted({k[0] for k, _ in self._pairs()})}, "
                f"urgencies {sorted({k[1] for k, _ in self._pairs()})})"
            )
        return result


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


#: ServiceNow's default 3x3 impact x urgency -> priority matrix (see :class:`PriorityMatrix`).
DEFAULT_PRIORITY_MATRIX = PriorityMatrix(
    {
        (1, 1): 1,
        (1, 2): 2,
        (2, 1): 2,
        (1, 3): 3,
        (2, 2): 3,
        (3, 1): 3,
        (2, 3): 4,
        (3, 2): 4,
        (3, 3): 4,
    }
)


def priority(impact: int, urgency: int, matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX) -> int:
    """Priority (1 = Critical ... 4 = Low by default) from impact and urgency (1 = highest)."""
    return matrix.priority(impact, urgency)


# --------------------------------------------------------------------------- loop oracle


@functools.lru_cache(maxsize=64)
def _loop_holidays(country: str, subdivision: str | None) -> Any:
    try:
        return holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:  # pragma: no cover - Calendar validates first
        raise ValueError(str(exc)) from exc


def _loop_epoch(value: datetime | int) -> int:
    return to_epoch(value) if isinstance(value, datetime) else int(value)


def _loop_wall_to_utc(day: date, minute: int, zone: ZoneInfo) -> int:
    """First instant at which the local clock reads ``day minute`` or later (datetime way)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    seconds = to_epoch(naive.replace(tzinfo=zone))  # fold=0: first occurrence if ambiguous
    if datetime.fromtimestamp(seconds, zone).replace(tzinfo=None) == naive:
        return seconds
    # The wall time does not exist (DST gap): find when the clock jumps past it.
    low, high = to_epoch(naive.replace(tzinfo=zone, fold=1)), seconds
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return high


def _loop_is_closed(calendar: Calendar, day: date) -> bool:
    if day in calendar.extra_holidays:
        return True
    if calendar.holiday_country is None:
        return False
    return day in _loop_holidays(calendar.holiday_country, calendar.holiday_subdivision)


def _loop_span(calendar: Calendar, start: int, end: int) -> int:
    zone = calendar.zone
    day = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, zone).date() + timedelta(days=1)
    total = 0
    while day <= last:
        if not _loop_is_closed(calendar, day):
            for s, e in calendar.window_list(day.weekday()):
                low = max(_loop_wall_to_utc(day, s, zone), start)
                high = min(_loop_wall_to_utc(day, e, zone), end)
                if high > low:
                    total += high - low
        day += timedelta(days=1)
    return total


def loop_business_seconds(
    calendar: Calendar,
    start: datetime | int,
    end: datetime | int,
    pauses: Iterable[tuple[datetime | int, datetime | int]] = (),
) -> int:
    """Reference implementation for one ticket: a plain day-by-day loop.

    For each local day: is it a holiday? If not, intersect each window with the ticket;
    pauses are clipped, merged and measured the same way, then subtracted. This is how
    typical helpdesks do it; here it is the test oracle and the benchmark baseline, and it
    must agree exactly with :func:`business_seconds`.
    """
    a, b = _loop_epoch(start), _loop_epoch(end)
    if b < a:
        raise ValueError(f"end ({b}) is before start ({a})")
    total = _loop_span(calendar, a, b)
    clipped = []
    for p_start, p_end in pauses:
        ps, pe = _loop_epoch(p_start), _loop_epoch(p_end)
        if pe < ps:
            raise ValueError(f"pause ends ({pe}) before it starts ({ps})")
        ps, pe = max(ps, a), min(pe, b)
        if pe > ps:
            clipped.append((ps, pe))
    merged: list[list[int]] = []
    for ps, pe in sorted(clipped):
        if merged and ps <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], pe)
        else:
            merged.append([ps, pe])
    return total - sum(_loop_span(calendar, ps, pe) for ps, pe in merged)


def loop_due(calendar: Calendar, start: datetime | int, target: int) -> int:
    """Reference deadline for one ticket (epoch seconds), walking forward day by day."""
    if target < 0:
        raise ValueError(f"target must be >= 0 business seconds, got {target}")
    a = _loop_epoch(start)
    if target == 0:
        return a
    zone = calendar.zone
    day = datetime.fromtimestamp(a, zone).date() - timedelta(days=1)
    horizon = day + timedelta(days=366 * MAX_DUE_HORIZON_YEARS)
    remaining = target
    while day <= horizon:
        if not _loop_is_closed(calendar, day):
            for s, e in calendar.window_list(day.weekday()):
                low = max(_loop_wall_to_utc(day, s, zone), a)
                high = _loop_wall_to_utc(day, e, zone)
                if high > low:
                    if high - low >= remaining:
                        return low + remaining
                    remaining -= high - low
        day += timedelta(days=1)
    raise ValueError(f"target cannot be met within {MAX_DUE_HORIZON_YEARS} years")
