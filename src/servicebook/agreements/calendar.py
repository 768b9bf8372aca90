"""Business calendars: working windows, time zones and holidays, as business time.

The kernel behind an agreement's :class:`~servicebook.agreements.models.Calendar` (its
``to_engine()`` value), used by agreements (working days of a change notice) and by the service
level clock in :mod:`servicebook.levels.clock`, which builds deadlines and pauses on it. Pure
Python + numpy (no Django), so it can be tested and benchmarked alone.

Domain concepts
---------------
Calendar
    The agreement's working time: an IANA time zone (with DST), one or more *working
    windows* per weekday, public holidays from the ``holidays`` package (country and
    optional subdivision) and the calendar's own extra closed dates.

Working window
    ``(start_minute, end_minute)`` in *local wall-clock minutes from midnight*, with
    ``0 <= start < end <= 1440``. ``1440`` is the explicit end-of-day representation, so a
    24x7 calendar is ``(0, 1440)`` on every weekday. A lunch break is two windows, e.g.
    ``[(480, 720), (780, 1020)]`` for 08:00-12:00 and 13:00-17:00. Windows never cross
    midnight; windows of one weekday must not overlap (touching is fine).
    :func:`parse_window` accepts ``"08:00"``/``"24:00"`` strings or :class:`datetime.time`.

Business time
    The set of real instants covered by the windows of the local dates that are not
    holidays. Everything is measured in real (UTC) seconds, so a 24x7 day lasts 23 h on the
    spring-forward day and 25 h on the fall-back day.

DST rule (deterministic)
    A window ``[s, e)`` of local date ``D`` runs from the *first instant the local clock
    reads ``D s`` or later* to the *first instant it reads ``D e`` or later*. Consequences:

    * a boundary inside the spring-forward gap maps to the transition instant (a window
      02:00-02:30 on that day is empty, 02:30-05:00 lasts 2 h of real time);
    * an ambiguous boundary (fall-back hour) maps to its *first* occurrence (a window
      02:00-02:30 on that day lasts 30 min; a window 01:00-04:00 lasts 4 h, repeated hour
      included).

Timestamps
    Integer UTC epoch seconds (numpy ``int64``) in and out; sub-second parts are floored.
    :func:`to_epoch` / :func:`from_epoch` convert aware datetimes (naive datetimes are
    refused: server local time is never assumed).

Elapsed business seconds
    ``F(t)`` is the business seconds between the clock's span origin and ``t``;
    ``elapsed(a, b) = F(b) - F(a)``. :class:`BusinessClock` precomputes, once per span, the
    sorted business intervals (UTC) and their cumulative lengths; ``F`` is then a
    ``np.searchsorted`` + clip, for millions of tickets at once.

Spans
    A :class:`BusinessClock` covers a fixed UTC span and raises :class:`ValueError` for
    timestamps outside it. The module-level functions (:func:`business_seconds`,
    the clock's :func:`due_at`) size the span automatically (whole UTC years, cached).

Holidays are asked from ``holidays.country_holidays(country, subdiv=..., years=...)`` once
per span, never per day. :func:`loop_business_seconds` and :func:`loop_due` are the
straightforward day-by-day per-ticket loops used as test oracle and benchmark baseline.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import numpy as np
import numpy.typing as npt

__all__ = [
    "END_OF_DAY",
    "MAX_DUE_HORIZON_YEARS",
    "BusinessClock",
    "Calendar",
    "Pauses",
    "business_seconds",
    "clear_caches",
    "from_epoch",
    "parse_window",
    "to_epoch",
]

#: Explicit end-of-day minute: a window ``(0, END_OF_DAY)`` is the whole local day.
END_OF_DAY = 1440
#: :func:`due_at` gives up (``ValueError``) when a deadline is further than this.
MAX_DUE_HORIZON_YEARS = 50

_DAY = 86_400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SAMPLE_STEP = 6 * 3600  # time-zone offset sampling step (transitions are months apart)
_NEG_INF = np.int64(-(2**62))
_POS_INF = np.int64(2**62)
_MIN_YEAR, _MAX_YEAR = 1900, 9000

Window = tuple[int, int]
WeekWindows = Mapping[int, Sequence[Window]] | Sequence[Sequence[Window]]
IntArray = npt.NDArray[np.int64]
TimestampLike = Any  # int, datetime, or array-like of either / numpy datetime64


# --------------------------------------------------------------------------- helpers


def parse_window(start: str | int | time, end: str | int | time) -> Window:
    """Build a ``(start_minute, end_minute)`` window from friendly values.

    Accepts minutes (``int``), ``"HH:MM"`` strings or :class:`datetime.time`. The end of
    the day is written ``"24:00"`` or ``1440`` (``time(0, 0)`` as an *end* is refused
    because it would be ambiguous).

    >>> parse_window("08:00", "12:00")
    (480, 720)
    >>> parse_window(time(0, 0), "24:00")
    (0, 1440)
    """
    window = (_minute(start, "start"), _minute(end, "end"))
    _check_window(window, "window")
    return window


def _minute(value: str | int | time, role: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"window {role} must be minutes, 'HH:MM' or a time, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, time):
        if value.second or value.microsecond:
            raise ValueError(f"window {role} {value} must be a whole minute")
        if role == "end" and value == time(0, 0):
            raise ValueError(
                "window end time(0, 0) is ambiguous: use '24:00' or 1440 for end of day"
            )
        return value.hour * 60 + value.minute
    if isinstance(value, str):
        hours, sep, minutes = value.partition(":")
        if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            return int(hours) * 60 + int(minutes)
    raise ValueError(f"window {role} must be minutes, 'HH:MM' or a time, got {value!r}")


def _check_window(window: Any, where: str) -> None:
    if (
        not isinstance(window, tuple | list)
        or len(window) != 2
        or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in window)
    ):
        raise ValueError(f"{where}: a window is a (start_minute, end_minute) pair, got {window!r}")
    start, end = window
    if not 0 <= start < end <= END_OF_DAY:
        raise ValueError(
            f"{where}: window {tuple(window)!r} must satisfy 0 <= start < end <= 1440 "
            "(local minutes from midnight; 1440 is end of day; windows cannot cross midnight)"
        )


def _zone(tz: str) -> ZoneInfo:
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"unknown time zone {tz!r}: give an IANA key such as 'Europe/Paris'")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {tz!r}: give an IANA key such as 'Europe/Paris'"
        ) from exc


def to_epoch(value: TimestampLike) -> Any:
    """Convert aware datetimes (or a sequence / numpy datetime64 array) to UTC epoch seconds.

    A single :class:`datetime` gives an ``int``; anything else gives an ``int64`` array.
    Naive datetimes raise :class:`ValueError` (server local time is never assumed);
    numpy ``datetime64`` values are taken as UTC. Sub-second parts are floored.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} has no time zone: attach one "
                "(server local time is never assumed)"
            )
        return (value - _EPOCH) // timedelta(seconds=1)
    return _as_epoch_array(value, "timestamps")


def from_epoch(seconds: int | np.integer, tz: str = "UTC") -> datetime:
    """Convert UTC epoch seconds to an aware datetime in ``tz`` (default UTC)."""
    return datetime.fromtimestamp(int(seconds), _zone(tz))


def _as_epoch_array(value: TimestampLike, name: str) -> IntArray:
    if isinstance(value, datetime):
        return np.array([to_epoch(value)], dtype=np.int64)
    arr = np.asarray(value)
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[s]").astype(np.int64)
    elif arr.dtype.kind == "O":
        if not all(isinstance(v, datetime) for v in arr.ravel()):
            raise ValueError(f"{name} must not mix datetimes with other values")
        arr = np.array([to_epoch(v) for v in arr.ravel()], dtype=np.int64).reshape(arr.shape)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64, copy=False)
    elif arr.size == 0:
        arr = arr.astype(np.int64)
    else:
        raise ValueError(
            f"{name} must be integer UTC epoch seconds, aware datetimes or datetime64, "
            f"got dtype {arr.dtype}"
        )
    return np.atleast_1d(arr).ravel()


def _utc_year_start(year: int) -> int:
    return (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)


def _utc_year(seconds: int) -> int:
    year = datetime.fromtimestamp(seconds, UTC).year if -(2**40) < seconds < 2**40 else 0
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(
            f"timestamp {seconds} is outside the supported years {_MIN_YEAR}..{_MAX_YEAR}"
        )
    return year


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class Calendar:
    """An agreement's working calendar (immutable and hashable, so it can key caches).

    Parameters
    ----------
    tz:
        IANA time zone key of the agreement (not the server's), e.g. ``"Europe/Paris"``.
    windows:
        Working windows per weekday, either a mapping ``{weekday: [(start, end), ...]}``
        (``0`` = Monday; missing weekdays are closed; JSON-style ``"0"``..``"6"`` keys and
        ``[start, end]`` lists are accepted) or a 7-item sequence indexed by weekday. Each
        window is ``(start_minute, end_minute)`` local, ``0 <= start < end <= 1440``.
        Normalised at construction to a 7-tuple (by weekday) of sorted window tuples.
    holiday_country, holiday_subdivision:
        ``holidays`` package country code (e.g. ``"FR"``) and optional subdivision
        (e.g. ``"BY"`` for Bavaria in ``"DE"``). Public holidays are closed all day.
    extra_holidays:
        The calendar's own closed local dates (company closures, bridge days...), as
        :class:`datetime.date` or ``"YYYY-MM-DD"`` strings; normalised to a frozenset.
    """

    tz: str
    windows: WeekWindows
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    extra_holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _zone(self.tz)
        object.__setattr__(self, "windows", _normalize_windows(self.windows))
        if isinstance(self.extra_holidays, str | date):
            raise ValueError("extra_holidays must be a collection of dates")
        object.__setattr__(
            self, "extra_holidays", frozenset(_as_date(day) for day in self.extra_holidays)
        )
        if self.holiday_country is None:
            if self.holiday_subdivision is not None:
                raise ValueError("holiday_subdivision given without holiday_country")
        else:
            _country_holidays(self.holiday_country, self.holiday_subdivision, ())

    @classmethod
    def office(
        cls,
        tz: str,
        windows: Sequence[Window] = ((480, 720), (780, 1020)),
        weekdays: Iterable[int] = range(5),
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
        extra_holidays: Iterable[date] = (),
    ) -> Calendar:
        """Same windows on the given weekdays (default Mon-Fri 08:00-12:00, 13:00-17:00)."""
        return cls(
            tz,
            {day: list(windows) for day in weekdays},
            holiday_country,
            holiday_subdivision,
            frozenset(extra_holidays),
        )

    @classmethod
    def always(cls, tz: str = "UTC") -> Calendar:
        """A 24x7 calendar (window 00:00-24:00 every day, no holidays)."""
        return cls(tz, {day: [(0, END_OF_DAY)] for day in range(7)})

    @property
    def zone(self) -> ZoneInfo:
        """The :class:`zoneinfo.ZoneInfo` of :attr:`tz`."""
        return ZoneInfo(self.tz)

    def _week(self) -> tuple[tuple[Window, ...], ...]:
        """The windows as ``__post_init__`` normalised them (seven tuples, Monday first)."""
        return cast(tuple[tuple[Window, ...], ...], self.windows)

    def window_list(self, weekday: int) -> tuple[Window, ...]:
        """The normalised windows of ``weekday`` (0 = Monday)."""
        return self._week()[weekday]

    def describe(self) -> str:
        """Short human-readable summary, e.g. for benchmark output and logs."""
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        parts = []
        for weekday, wins in enumerate(self._week()):
            if wins:
                spans = ",".join(
                    f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in wins
                )
                parts.append(f"{names[weekday]} {spans}")
        hol = self.holiday_country or "none"
        if self.holiday_subdivision:
            hol += f"-{self.holiday_subdivision}"
        extra = f" +{len(self.extra_holidays)} own dates" if self.extra_holidays else ""
        return f"{self.tz}; {'; '.join(parts) or 'closed'}; holidays {hol}{extra}"


def _as_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError(f"extra_holidays must contain dates or 'YYYY-MM-DD' strings, got {value!r}")


def _weekday_key(key: Any) -> int:
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key <= 6:
        raise ValueError(f"weekday keys must be ints 0 (Monday)..6 (Sunday), got {key!r}")
    return key


def _normalize_windows(windows: Any) -> tuple[tuple[Window, ...], ...]:
    if isinstance(windows, Mapping):
        per_day: list[list[Any]] = [[] for _ in range(7)]
        for key, wins in windows.items():
            per_day[_weekday_key(key)] = list(wins)
    elif isinstance(windows, Sequence) and not isinstance(windows, str) and len(windows) == 7:
        per_day = [list(wins) for wins in windows]
    else:
        raise ValueError(
            "windows must be a mapping {weekday: [(start, end), ...]} or a 7-item sequence"
        )
    result = []
    for weekday, wins in enumerate(per_day):
        for window in wins:
            _check_window(window, f"weekday {weekday}")
        ordered = sorted((int(s), int(e)) for s, e in wins)
        for (s1, e1), (s2, e2) in pairwise(ordered):
            if s2 < e1:
                raise ValueError(f"weekday {weekday}: windows {(s1, e1)} and {(s2, e2)} overlap")
        result.append(tuple(ordered))
    return tuple(result)


@functools.lru_cache(maxsize=256)
def _country_holidays(country: str, subdivision: str | None, years: tuple[int, ...]) -> Any:
    try:
        return holidays.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as exc:
        raise ValueError(
            f"unknown holiday country/subdivision {country!r}/{subdivision!r}: {exc}"
        ) from exc


def _closed_dates(calendar: Calendar, first_year: int, last_year: int) -> np.ndarray:
    """Holiday + own closed dates in the years, as sorted ``datetime64[D]`` (one query)."""
    days: set[date] = set(calendar.extra_holidays)
    if calendar.holiday_country is not None:
        years = tuple(range(first_year, last_year + 1))
        days.update(
            _country_holidays(calendar.holiday_country, calendar.holiday_subdivision, years)
        )
    return np.array(sorted(days), dtype="datetime64[D]")


# --------------------------------------------------------------------------- time zones


def _offset(zone: ZoneInfo, seconds: int) -> int:
    return int(datetime.fromtimestamp(seconds, zone).utcoffset().total_seconds())  # type: ignore[union-attr]


@functools.lru_cache(maxsize=256)
def _zone_segments(tz: str, lo: int, hi: int) -> tuple[IntArray, IntArray]:
    """UTC offset segments over ``[lo, hi]``: (segment start instants, offsets).

    ``starts[0]`` is -infinity; segment ``k`` is ``[starts[k], starts[k+1])`` with offset
    ``offsets[k]``. Offsets are sampled every 6 h and each change is located to the second
    by bisection (tz transitions are months apart, so none is missed in modern data).
    """
    zone = ZoneInfo(tz)
    starts, offsets = [int(_NEG_INF)], [_offset(zone, lo)]
    prev = lo
    for sample in range(lo + _SAMPLE_STEP, hi + _SAMPLE_STEP, _SAMPLE_STEP):
        target = _offset(zone, sample)
        while target != offsets[-1]:
            low, high = prev, sample  # offset(low) == offsets[-1] != offset(high)
            while high - low > 1:
                mid = (low + high) // 2
                if _offset(zone, mid) == offsets[-1]:
                    low = mid
                else:
                    high = mid
            starts.append(high)
            offsets.append(_offset(zone, high))
            prev = high
        prev = sample
    return np.array(starts, dtype=np.int64), np.array(offsets, dtype=np.int64)


def _wall_to_utc(wall: IntArray, seg_starts: IntArray, seg_offsets: IntArray) -> IntArray:
    """Map local wall-clock seconds to the first UTC instant whose local clock reads >= wall.

    Segment ``k`` shows wall times ``[seg_starts[k] + off[k], seg_starts[k+1] + off[k])``;
    the answer lies in the first segment whose wall-clock end exceeds ``wall`` (a running
    max makes that searchable), clamped to the segment start for times in a DST gap.
    """
    wall_end = np.empty_like(seg_offsets)
    wall_end[:-1] = seg_starts[1:] + seg_offsets[:-1]
    wall_end[-1] = _POS_INF
    k = np.searchsorted(np.maximum.accumulate(wall_end), wall, side="right")
    return np.maximum(seg_starts[k], wall - seg_offsets[k])


# --------------------------------------------------------------------------- the clock


class Pauses(NamedTuple):
    """Paused intervals: ``ticket[i]`` is the index of the ticket paused ``[start[i], end[i]]``.

    All three are 1-D arrays of the same length (epoch seconds / aware datetimes for the
    times). An open pause (still paused) should be closed at "now" by the caller.
    """

    ticket: Any
    start: Any
    end: Any


@dataclass(frozen=True, eq=False)
class BusinessClock:
    """Precomputed business intervals of one calendar over a fixed UTC span.

    ``starts``/``ends`` are the sorted, disjoint business intervals (UTC epoch seconds)
    overlapping ``[lo, hi]``, and ``cum[i]`` the business seconds before interval ``i``
    (``cum[-1]`` is the total). Build with :meth:`build` (exact span) or :meth:`for_span`
    (whole UTC years, cached). Methods raise :class:`ValueError` for timestamps outside
    ``[lo, hi]``.
    """

    calendar: Calendar
    lo: int
    hi: int
    starts: IntArray
    ends: IntArray
    cum: IntArray

    @classmethod
    def build(cls, calendar: Calendar, lo: int, hi: int) -> BusinessClock:
        """Compute the business intervals of ``calendar`` covering UTC ``[lo, hi]``."""
        lo, hi = int(lo), int(hi)
        if hi < lo:
            raise ValueError(f"clock span end {hi} is before its start {lo}")
        for bound in (lo, hi):
            _utc_year(bound)  # validates the supported range
        zone = calendar.zone
        first = datetime.fromtimestamp(lo, zone).date() - timedelta(days=1)
        last = datetime.fromtimestamp(hi, zone).date() + timedelta(days=1)
        days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
        open_days = days[~np.isin(days, _closed_dates(calendar, first.year, last.year))]
        day_numbers = open_days.astype(np.int64)
        weekday = (day_numbers + 3) % 7  # 1970-01-01 was a Thursday
        wall_starts, wall_ends = [], []
        for wd in range(7):
            selected = day_numbers[weekday == wd] * _DAY
            for s, e in calendar.window_list(wd):
                wall_starts.append(selected + s * 60)
                wall_ends.append(selected + e * 60)
        if not wall_starts:
            empty = np.zeros(0, dtype=np.int64)
            return cls(calendar, lo, hi, empty, empty, np.zeros(1, dtype=np.int64))
        seg = _zone_segments(
            calendar.tz,
            int(days[0].astype(np.int64)) * _DAY - 2 * _DAY,
            int(days[-1].astype(np.int64)) * _DAY + 3 * _DAY,
        )
        u_start = _wall_to_utc(np.concatenate(wall_starts), *seg)
        u_end = _wall_to_utc(np.concatenate(wall_ends), *seg)
        order = np.argsort(u_start, kind="stable")
        u_start, u_end = u_start[order], u_end[order]
        keep = u_end > u_start
        u_start, u_end = u_start[keep], u_end[keep]
        # Merge touching intervals (e.g. the midnights of a 24x7 calendar).
        if u_start.size:
            reach = np.maximum.accumulate(u_end)
            new = np.ones(u_start.size, dtype=bool)
            new[1:] = u_start[1:] > reach[:-1]
            first_idx = np.flatnonzero(new)
            last_idx = np.append(first_idx[1:] - 1, u_start.size - 1)
            u_start, u_end = u_start[first_idx], reach[last_idx]
        cum = np.zeros(u_start.size + 1, dtype=np.int64)
        np.cumsum(u_end - u_start, out=cum[1:])
        for array in (u_start, u_end, cum):
            array.flags.writeable = False  # clocks are cached and shared
        return cls(calendar, lo, hi, u_start, u_end, cum)

    @classmethod
    def for_span(cls, calendar: Calendar, lo: int, hi: int) -> BusinessClock:
        """A cached clock covering at least ``[lo, hi]``, aligned to whole UTC years."""
        return _clock_for_years(calendar, _utc_year(int(lo)), _utc_year(int(hi)))

    def covers(self, lo: int, hi: int) -> bool:
        """Whether ``[lo, hi]`` lies within this clock's span."""
        return self.lo <= lo and hi <= self.hi

    @property
    def total(self) -> int:
        """Business seconds in the precomputed intervals."""
        return int(self.cum[-1])

    def _check(self, t: IntArray, name: str) -> None:
        if t.size and (int(t.min()) < self.lo or int(t.max()) > self.hi):
            bad = t[(t < self.lo) | (t > self.hi)][0]
            raise ValueError(
                f"{name} {int(bad)} is outside the clock span [{self.lo}, {self.hi}]; build a "
                "wider clock or use business_seconds()/due_at(), which size the span"
            )

    def business_time(self, t: TimestampLike) -> IntArray:
        """``F(t)``: business seconds from the clock origin to each instant ``t``."""
        t = _as_epoch_array(t, "timestamps")
        self._check(t, "timestamp")
        return self._position(t)

    def _position(self, t: IntArray) -> IntArray:
        if self.starts.size == 0:
            return np.zeros(t.shape, dtype=np.int64)
        j = np.searchsorted(self.starts, t, side="right") - 1
        np.maximum(j, 0, out=j)
        starts = self.starts[j]
        return self.cum[j] + np.clip(t - starts, 0, self.ends[j] - starts)

    def elapsed(
        self, start: TimestampLike, end: TimestampLike, pauses: Pauses | None = None
    ) -> IntArray:
        """Business seconds in ``[start[i], end[i]]`` minus the business time paused.

        ``pauses`` (optional) index into the ``start``/``end`` arrays; see :class:`Pauses`.
        """
        start, end = _ticket_arrays(start, end)
        self._check(start, "start")
        self._check(end, "end")
        result = self._position(end) - self._position(start)
        if pauses is not None:
            result -= self._paused(start, end, pauses)
        return result

    def paused(self, start: TimestampLike, end: TimestampLike, pauses: Pauses) -> IntArray:
        """Business seconds paused per ticket (pauses clipped to the ticket and merged)."""
        start, end = _ticket_arrays(start, end)
        self._check(start, "start")
        self._check(end, "end")
        return self._paused(start, end, pauses)

    def _paused(self, start: IntArray, end: IntArray, pauses: Pauses) -> IntArray:
        paused = np.zeros(start.size, dtype=np.int64)
        ticket, _, length, new_group = self._pause_pieces(start, end, pauses)
        if ticket.size:
            group_first = np.flatnonzero(new_group)
            paused[ticket[group_first]] = np.add.reduceat(length, group_first)
        return paused

    def _pause_pieces(
        self, start: IntArray, end: IntArray, pauses: Pauses
    ) -> tuple[IntArray, IntArray, IntArray, np.ndarray]:
        """Paused time as disjoint pieces in business coordinates.

        Returns ``(ticket, piece_start, piece_length, new_group)`` sorted by ticket then
        position: each ticket's pauses clipped to its ``[start, end]``, merged, and cut into
        non-overlapping pieces (``piece_length`` may be 0 for a pause inside another);
        ``new_group`` marks the first piece of each ticket.
        """
        n = start.size
        none = np.zeros(0, dtype=np.int64)
        ticket = np.atleast_1d(np.asarray(pauses.ticket)).ravel()
        if ticket.size and ticket.dtype.kind not in "iu":
            raise ValueError(f"pause ticket indexes must be integers, got dtype {ticket.dtype}")
        ticket = ticket.astype(np.int64, copy=False)
        p_start = _as_epoch_array(pauses.start, "pause starts")
        p_end = _as_epoch_array(pauses.end, "pause ends")
        if not ticket.size == p_start.size == p_end.size:
            raise ValueError(
                f"pause arrays differ in length: ticket {ticket.size}, start {p_start.size}, "
                f"end {p_end.size}"
            )
        if ticket.size == 0:
            return none, none, none, np.zeros(0, dtype=bool)
        if int(ticket.min()) < 0 or int(ticket.max()) >= n:
            raise ValueError(f"pause ticket indexes must be in 0..{n - 1}")
        if np.any(p_end < p_start):
            i = int(np.flatnonzero(p_end < p_start)[0])
            raise ValueError(
                f"pause {i} ends ({int(p_end[i])}) before it starts ({int(p_start[i])})"
            )
        # Clip to the ticket's [start, end], then go to business coordinates: F is monotone,
        # so merging the images [F(ps), F(pe)] merges the pauses, in business time.
        p_start = np.maximum(p_start, start[ticket])
        p_end = np.minimum(p_end, end[ticket])
        keep = p_end > p_start
        ticket, p_start, p_end = ticket[keep], p_start[keep], p_end[keep]
        f_start, f_end = self._position(p_start), self._position(p_end)
        keep = f_end > f_start
        ticket, f_start, f_end = ticket[keep], f_start[keep], f_end[keep]
        if ticket.size == 0:
            return none, none, none, np.zeros(0, dtype=bool)
        scale = self.total + 1  # > any business coordinate
        if n * scale < 2**62:
            order = np.argsort(ticket * scale + f_start)
        else:  # pragma: no cover - astronomically large inputs
            order = np.lexsort((f_start, ticket))
        ticket, f_start, f_end = ticket[order], f_start[order], f_end[order]
        new_group = np.ones(ticket.size, dtype=bool)
        new_group[1:] = ticket[1:] != ticket[:-1]
        # Segmented running max of the ends: shift each ticket's group above the previous.
        shift = (np.cumsum(new_group) - 1) * scale
        reach = np.maximum.accumulate(f_end + shift) - shift
        covered_from = f_start.copy()
        inner = ~new_group[1:]
        covered_from[1:][inner] = np.maximum(f_start[1:][inner], reach[:-1][inner])
        contribution = np.maximum(f_end - covered_from, 0)
        return ticket, covered_from, contribution, new_group

    def due(self, start: TimestampLike, target: Any) -> IntArray:
        """Earliest instants ``t >= start`` with ``elapsed(start, t) == target``.

        Raises :class:`ValueError` when a deadline falls beyond the precomputed intervals
        (use :func:`due_at`, which extends the span).
        """
        start = _as_epoch_array(start, "start")
        target = _targets(target, start.size)
        self._check(start, "start")
        wanted = self._position(start) + target
        if wanted.size and int(wanted.max()) > self.total:
            raise ValueError("a deadline lies beyond the clock span; use due_at() to extend it")
        return self._due(start, target, wanted)

    def _due(self, start: IntArray, target: IntArray, wanted: IntArray) -> IntArray:
        if self.starts.size == 0:
            return start.copy()
        k = np.searchsorted(self.cum[1:], wanted, side="left")
        np.minimum(k, self.starts.size - 1, out=k)
        deadline = self.ends[k] - (self.cum[k + 1] - wanted)
        return np.where(target == 0, start, deadline)


@functools.lru_cache(maxsize=64)
def _clock_for_years(calendar: Calendar, first_year: int, last_year: int) -> BusinessClock:
    return BusinessClock.build(
        calendar, _utc_year_start(first_year), _utc_year_start(last_year + 1)
    )


def clear_caches() -> None:
    """Drop cached clocks, holiday tables and time-zone segments (e.g. for benchmarks)."""
    _clock_for_years.cache_clear()
    _zone_segments.cache_clear()
    _country_holidays.cache_clear()


def _ticket_arrays(start: TimestampLike, end: TimestampLike) -> tuple[IntArray, IntArray]:
    start = _as_epoch_array(start, "start")
    end = _as_epoch_array(end, "end")
    if start.size != end.size:
        if start.size == 1:
            start = np.broadcast_to(start, end.shape)
        elif end.size == 1:
            end = np.broadcast_to(end, start.shape)
        else:
            raise ValueError(f"start and end differ in length: {start.size} vs {end.size}")
    if np.any(end < start):
        i = int(np.flatnonzero(end < start)[0])
        raise ValueError(f"ticket {i}: end ({int(end[i])}) is before start ({int(start[i])})")
    return start, end


def _targets(target: Any, n: int) -> IntArray:
    arr = np.atleast_1d(np.asarray(target))
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "m":
            arr = arr.astype("timedelta64[s]").astype(np.int64)
        else:
            raise ValueError(f"targets must be integer business seconds, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False).ravel()
    if arr.size == 1 and n != 1:
        arr = np.broadcast_to(arr, (n,))
    if arr.size != n:
        raise ValueError(f"targets ({arr.size}) and starts ({n}) differ in length")
    if arr.size and int(arr.min()) < 0:
        raise ValueError(f"targets must be >= 0 business seconds, got {int(arr.min())}")
    return arr


# --------------------------------------------------------------------------- public API


def business_seconds(
    calendar: Calendar,
    start: TimestampLike,
    end: TimestampLike,
    pauses: Pauses | tuple[Any, Any, Any] | None = None,
) -> IntArray:
    """Business seconds elapsed per ticket between ``start`` and ``end``, minus pauses.

    ``start``/``end`` are 1-D arrays (or scalars) of UTC epoch seconds, aware datetimes or
    ``datetime64``; ``pauses`` is a :class:`Pauses` ``(ticket_index, start, end)``. The
    clock span is sized automatically. Returns an ``int64`` array.
    """
    start, end = _ticket_arrays(start, end)
    if start.size == 0:
        return np.zeros(0, dtype=np.int64)
    clock = BusinessClock.for_span(calendar, int(start.min()), int(end.max()))
    return clock.elapsed(start, end, None if pauses is None else Pauses(*pauses))
