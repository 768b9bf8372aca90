"""Measuring tickets and outages against targets, for arrays of them at once (no Django).

Input is the stored history as arrays (ticket open/resolution times, state-history rows,
outages) and the configuration (targets with their calendars, the agreement's pause states);
output is, per ticket and target, the business time elapsed, the deadline and whether it was
breached, and, per target and month, the attainment. A pure function: change a calendar, a
target or a pause rule and measure again.

Rules (docs/service-levels.md):

* **Response**: from ``opened`` to the first history row whose state is not ``New``.
* **Resolution**: from ``opened`` to ``resolved``, minus the business time spent in a pause
  state of the agreement or resolved before a reopen (never counted twice, never outside
  hours).
* A ticket is *decided* once answered/resolved, or once it has used up its threshold
  (breached while still open); undecided open tickets are *pending* and left out of the share.
* A ticket counts in the month (in the target calendar's time zone) it was opened.
* **Availability** of a month: agreed service time = the calendar's business time of the month
  (minus planned maintenance when the agreement excludes it); down time = the business time
  covered by outages (planned ones only when not excluded). Overlaps count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from servicebook.levels.clock import (
    Calendar,
    Pauses,
    business_seconds,
    due_at,
    due_with_pauses,
    local_months,
    month_starts,
)

RESPONSE = "response_time"
RESOLUTION = "resolution_time"
RESOLVED_STATES = ("Resolved", "Closed")
NEW_STATE = "New"


@dataclass
class TicketArrays:
    """Tickets and their history as arrays (times in UTC epoch seconds; -1 for "none").

    History rows are sorted by ticket index, then sequence; ``hist_ticket`` indexes the
    ticket arrays.
    """

    opened: np.ndarray
    resolved: np.ndarray
    priority: np.ndarray
    hist_ticket: np.ndarray
    hist_at: np.ndarray
    hist_state: np.ndarray

    @property
    def size(self) -> int:
        return int(self.opened.size)


@dataclass(frozen=True)
class TimeTarget:
    """A response or resolution target: ``threshold`` business seconds for ``priority``."""

    key: int
    metric: str
    priority: int
    threshold: int
    calendar: Calendar


@dataclass
class TimeResult:
    """Per ticket of one target: the measured clock (arrays aligned with ``index``)."""

    index: np.ndarray  # ticket indices measured by this target
    elapsed: np.ndarray  # business seconds counted (net of pauses), up to the end or as_of
    paused: np.ndarray  # business seconds paused (resolution only)
    due: np.ndarray  # deadline (UTC epoch seconds)
    done: np.ndarray  # answered / resolved
    breached: np.ndarray
    month: np.ndarray  # local month of opening (months since 1970-01)


def first_response(tickets: TicketArrays) -> np.ndarray:
    """Time of the first history row that is not ``New`` per ticket (-1 if none yet)."""
    responded = np.full(tickets.size, -1, dtype=np.int64)
    moved = tickets.hist_state != NEW_STATE
    if not moved.any():
        return responded
    rows = np.flatnonzero(moved)
    ticket = tickets.hist_ticket[rows]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = ticket[1:] != ticket[:-1]
    responded[ticket[first]] = tickets.hist_at[rows[first]]
    return np.maximum(responded, np.where(responded >= 0, tickets.opened, -1))


def pause_intervals(tickets: TicketArrays, pause_states: Iterable[str], as_of: int) -> Pauses:
    """Intervals the resolution clock stands still: in a pause state, or resolved then reopened.

    Each history row lasts until the next row of its ticket (the last one until ``as_of``);
    the engine clips pauses to each ticket's clock, so the final resolution is never a pause.
    """
    states = np.asarray(list(set(pause_states) | set(RESOLVED_STATES)), dtype=object)
    ticket, at = tickets.hist_ticket, tickets.hist_at
    if ticket.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Pauses(empty, empty, empty)
    end = np.empty_like(at)
    end[:-1] = at[1:]
    last = np.ones(ticket.size, dtype=bool)
    last[:-1] = ticket[1:] != ticket[:-1]
    end[last] = max(as_of, 0)
    end = np.maximum(end, at)
    pausing = np.isin(tickets.hist_state, states)
    return Pauses(ticket[pausing], at[pausing], end[pausing])


def _subset_pauses(pauses: Pauses, index: np.ndarray, n: int) -> Pauses:
    """Pauses of the tickets in ``index``, renumbered to positions in ``index``."""
    position = np.full(n, -1, dtype=np.int64)
    position[index] = np.arange(index.size)
    mapped = position[pauses.ticket]
    keep = mapped >= 0
    return Pauses(mapped[keep], pauses.start[keep], pauses.end[keep])


def measure_time_targets(
    tickets: TicketArrays,
    targets: Sequence[TimeTarget],
    pause_states: Iterable[str],
    as_of: int,
) -> dict[int, TimeResult]:
    """Clock of every ticket under its target, vectorized per (metric, calendar)."""
    results: dict[int, TimeResult] = {}
    if tickets.size == 0:
        return results
    known = tickets.opened <= as_of
    responded = first_response(tickets)
    pauses = pause_intervals(tickets, pause_states, as_of)
    groups: dict[tuple[str, Calendar], list[TimeTarget]] = {}
    for target in targets:
        groups.setdefault((target.metric, target.calendar), []).append(target)
    for (metric, calendar), members in groups.items():
        threshold = np.zeros(tickets.size, dtype=np.int64)
        owner = np.full(tickets.size, -1, dtype=np.int64)
        for position, target in enumerate(members):
            chosen = known & (tickets.priority == target.priority)
            threshold[chosen] = target.threshold
            owner[chosen] = position
        index = np.flatnonzero(owner >= 0)
        if index.size == 0:
            for target in members:
                results[target.key] = _empty_result()
            continue
        opened = tickets.opened[index]
        finish = responded[index] if metric == RESPONSE else tickets.resolved[index]
        done = (finish >= 0) & (finish <= as_of)  # known at as_of
        end = np.where(done, finish, as_of)
        end = np.maximum(end, opened)
        limit = threshold[index]
        if metric == RESOLUTION:
            subset = _subset_pauses(pauses, index, tickets.size)
            total = business_seconds(calendar, opened, end)
            elapsed = business_seconds(calendar, opened, end, subset)
            paused = total - elapsed
            # pauses after the clock stopped (the final resolution) do not move the deadline
            clip_end = np.minimum(subset.end, end[subset.ticket])
            clipped = Pauses(subset.ticket, np.minimum(subset.start, clip_end), clip_end)
            due = due_with_pauses(calendar, opened, limit, clipped)
        else:
            elapsed = business_seconds(calendar, opened, end)
            paused = np.zeros(index.size, dtype=np.int64)
            due = due_at(calendar, opened, limit)
        breached = elapsed > limit
        month = local_months(calendar.tz, opened)
        for position, target in enumerate(members):
            mine = owner[index] == position
            results[target.key] = TimeResult(
                index=index[mine],
                elapsed=elapsed[mine],
                paused=paused[mine],
                due=due[mine],
                done=done[mine],
                breached=breached[mine],
                month=month[mine],
            )
    return results


def _empty_result() -> TimeResult:
    empty = np.zeros(0, dtype=np.int64)
    return TimeResult(
        empty, empty, empty, empty, np.zeros(0, bool), np.zeros(0, bool), empty.copy()
    )


@dataclass
class PeriodFigures:
    """The attainment of one target in one month."""

    month: int
    measured: Decimal | None
    met: bool | None
    total: int = 0
    breached: int = 0
    pending: int = 0
    breaching: tuple[int, ...] = ()  # ticket indices
    agreed_seconds: int = 0
    down_seconds: int = 0


def percent(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a percentage with three decimals (None when ``whole`` is 0)."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.001"))


def attains(part: int, whole: int, goal: Decimal) -> bool | None:
    """Whether ``part / whole`` reaches ``goal`` percent, compared exactly (no rounding)."""
    if whole <= 0:
        return None
    return Decimal(part) * 100 >= goal * Decimal(whole)


def time_periods(result: TimeResult, goal: Decimal) -> list[PeriodFigures]:
    """Per month: decided tickets, breaches, the share within the threshold, met or not."""
    figures = []
    decided = result.done | result.breached
    for month in np.unique(result.month).tolist():
        mine = result.month == month
        total = int((decided & mine).sum())
        breached_mask = result.breached & mine
        breached = int(breached_mask.sum())
        within = total - breached
        figures.append(
            PeriodFigures(
                month=int(month),
                measured=percent(within, total),
                met=attains(within, total, goal),
                total=total,
                breached=breached,
                pending=int((mine & ~decided).sum()),
                breaching=tuple(result.index[breached_mask].tolist()),
            )
        )
    return figures


@dataclass(frozen=True)
class OutageArrays:
    """Outages of one service: start, end (``as_of`` when still going on), planned flag."""

    start: np.ndarray
    end: np.ndarray
    planned: np.ndarray


def availability_periods(
    calendar: Calendar,
    months: Sequence[int],
    outages: OutageArrays,
    goal: Decimal,
    *,
    exclude_planned: bool,
    as_of: int,
) -> list[PeriodFigures]:
    """Availability per month (up to ``as_of``) in the calendar's business time."""
    month_array = np.asarray(list(months), dtype=np.int64)
    if month_array.size == 0:
        return []
    lo = month_starts(calendar.tz, month_array)
    hi = np.minimum(month_starts(calendar.tz, month_array + 1), as_of)
    keep = hi > lo
    month_array, lo, hi = month_array[keep], lo[keep], hi[keep]
    if month_array.size == 0:
        return []
    count = month_array.size
    n_out = outages.start.size
    period = np.repeat(np.arange(count, dtype=np.int64), n_out)
    o_start = np.tile(outages.start, count)
    o_end = np.tile(np.minimum(outages.end, as_of), count)
    o_end = np.maximum(o_end, o_start)
    planned = np.tile(outages.planned, count)
    total = business_seconds(calendar, lo, hi)
    covered_all = total - business_seconds(calendar, lo, hi, Pauses(period, o_start, o_end))
    plan = Pauses(period[planned], o_start[planned], o_end[planned])
    covered_planned = total - business_seconds(calendar, lo, hi, plan)
    if exclude_planned:
        agreed = total - covered_planned
        down = covered_all - covered_planned
    else:
        agreed = total
        down = covered_all
    figures = []
    for i in range(count):
        up = int(agreed[i] - down[i])
        figures.append(
            PeriodFigures(
                month=int(month_array[i]),
                measured=percent(up, int(agreed[i])),
                met=attains(up, int(agreed[i]), goal),
                agreed_seconds=int(agreed[i]),
                down_seconds=int(down[i]),
            )
        )
    return figures
