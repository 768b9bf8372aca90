"""Pure tests of the engine additions: deadlines with pauses, local months, measurement rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from servicebook.levels.clock import (
    Calendar,
    Pauses,
    business_seconds,
    due_at,
    due_with_pauses,
    local_months,
    month_index,
    month_label,
    month_starts,
    to_epoch,
)
from servicebook.levels.measure import (
    OutageArrays,
    TicketArrays,
    TimeTarget,
    attains,
    availability_periods,
    first_response,
    measure_time_targets,
    pause_intervals,
    percent,
    time_periods,
)
from tests.levels.test_clock import (
    PROPERTY,
    calendars,
    instants,
    tickets_with_pauses,
    weekly_minutes,
)

HOUR = 3600
PARIS_OFFICE = Calendar.office("Europe/Paris", holiday_country="FR")


def paris(*args) -> int:
    from zoneinfo import ZoneInfo

    return to_epoch(datetime(*args, tzinfo=ZoneInfo("Europe/Paris")))


@PROPERTY
@given(
    calendars().filter(lambda cal: weekly_minutes(cal) >= 60),
    tickets_with_pauses(),
    st.integers(0, 60 * HOUR),
)
def test_due_with_pauses_inverts_elapsed_with_pauses_and_is_earliest(calendar, data, target):
    tickets, pauses = data
    start = np.array([t[0] for t in tickets], dtype=np.int64)
    p = Pauses(
        np.array([x[0] for x in pauses], dtype=np.int64),
        np.array([x[1] for x in pauses], dtype=np.int64),
        np.array([x[2] for x in pauses], dtype=np.int64),
    )
    deadline = due_with_pauses(calendar, start, target, p)
    assert np.all(deadline >= start)
    assert np.array_equal(
        business_seconds(calendar, start, deadline, p), np.full(start.size, target)
    )
    if target > 0:
        before = business_seconds(calendar, start, np.maximum(deadline - 1, start), p)
        assert np.all(before < target)
    # never earlier than the deadline without pauses
    assert np.all(deadline >= due_at(calendar, start, target))


def test_due_with_pauses_only_counts_pauses_before_the_deadline():
    opened = paris(2026, 3, 2, 9, 0)  # Monday
    pauses = Pauses(
        [0, 0],
        [paris(2026, 3, 2, 10, 0), paris(2026, 3, 3, 9, 0)],
        [paris(2026, 3, 2, 11, 0), paris(2026, 3, 3, 12, 0)],
    )
    # 4 business hours: 9-10 counted, 10-11 paused, 11-12 + 13-15 counted → 15:00 Monday
    assert due_with_pauses(PARIS_OFFICE, [opened], 4 * HOUR, pauses)[0] == paris(2026, 3, 2, 15, 0)
    assert due_with_pauses(PARIS_OFFICE, [opened], 4 * HOUR)[0] == paris(2026, 3, 2, 14, 0)


@PROPERTY
@given(st.sampled_from(["Europe/Paris", "Asia/Singapore", "America/New_York", "UTC"]), instants)
def test_local_months_and_month_starts_agree(tz, t):
    month = int(local_months(tz, [t])[0])
    lo = int(month_starts(tz, [month])[0])
    hi = int(month_starts(tz, [month + 1])[0])
    assert lo <= t < hi
    assert month_index(month_label(month)) == month


def test_a_month_is_the_agreement_calendars_month():
    late = to_epoch(datetime(2026, 1, 31, 23, 30, tzinfo=UTC))
    assert month_label(local_months("UTC", [late])[0]) == "2026-01"
    assert month_label(local_months("Europe/Paris", [late])[0]) == "2026-02"
    assert month_label(local_months("America/New_York", [late])[0]) == "2026-01"


def _tickets(opened, resolved, priority, history):
    return TicketArrays(
        np.array(opened, dtype=np.int64),
        np.array(resolved, dtype=np.int64),
        np.array(priority, dtype=np.int64),
        np.array([h[0] for h in history], dtype=np.int64),
        np.array([h[1] for h in history], dtype=np.int64),
        np.array([h[2] for h in history], dtype=object),
    )


def test_response_is_the_first_move_out_of_new_and_pauses_follow_the_rules():
    t0 = paris(2026, 3, 2, 9, 0)
    tickets = _tickets(
        [t0, t0],
        [paris(2026, 3, 3, 12, 0), -1],
        [2, 2],
        [
            (0, t0, "New"),
            (0, paris(2026, 3, 2, 9, 30), "Active"),
            (0, paris(2026, 3, 2, 10, 0), "Awaiting Vendor"),
            (0, paris(2026, 3, 2, 11, 0), "Active"),
            (0, paris(2026, 3, 2, 14, 0), "Resolved"),  # resolved, then reopened
            (0, paris(2026, 3, 3, 9, 0), "Active"),
            (0, paris(2026, 3, 3, 12, 0), "Resolved"),
            (1, t0, "New"),
        ],
    )
    assert first_response(tickets).tolist() == [paris(2026, 3, 2, 9, 30), -1]
    pauses = pause_intervals(tickets, ["Awaiting Vendor"], as_of=paris(2026, 3, 4, 9, 0))
    assert len(pauses.ticket) == 3  # awaiting vendor, resolved-then-reopened, final resolved
    target = TimeTarget(1, "resolution_time", 2, 8 * HOUR, PARIS_OFFICE)
    result = measure_time_targets(tickets, [target], ["Awaiting Vendor"], paris(2026, 3, 4, 9))[1]
    # ticket 0: 9-10 + 11-12 + 13-14 on Monday, 9-12 Tuesday = 6 h; paused 1 h + 14-17 + 8-9
    assert result.elapsed.tolist()[0] == 6 * HOUR
    assert result.paused.tolist()[0] == 1 * HOUR + 3 * HOUR + 1 * HOUR
    assert result.done.tolist() == [True, False]
    # ticket 1 is still open: 2 days of 8 business hours counted → breached while open
    assert result.breached.tolist() == [False, True]
    without = measure_time_targets(tickets, [target], [], paris(2026, 3, 4, 9))[1]
    assert without.elapsed.tolist()[0] == 7 * HOUR  # the pause rule changed the result


def test_period_figures_count_decided_tickets_and_compare_exactly():
    t0 = paris(2026, 3, 2, 9, 0)
    history = [(i, t0, "New") for i in range(3)]
    tickets = _tickets([t0] * 3, [t0 + 600, t0 + 6 * HOUR, -1], [1, 1, 1], history)
    target = TimeTarget(7, "resolution_time", 1, 4 * HOUR, PARIS_OFFICE)
    early = measure_time_targets(tickets, [target], [], as_of=t0 + 2 * HOUR)[7]
    (figures,) = time_periods(early, D("95"))  # as of 11:00 only one ticket is decided
    assert (figures.total, figures.breached, figures.pending) == (1, 0, 2)
    later = measure_time_targets(tickets, [target], [], as_of=t0 + 7 * HOUR)[7]
    (figures,) = time_periods(later, D("95"))  # 16:00: one late (5 h), one open past its 4 h
    assert (figures.total, figures.breached, figures.pending) == (3, 2, 0)
    assert figures.breaching == (1, 2)
    assert figures.measured == D("33.333") and figures.met is False
    assert percent(2, 3) == D("66.667")
    assert attains(19, 20, D("95")) is True and attains(189, 200, D("95")) is False
    assert attains(0, 0, D("95")) is None


def test_availability_excludes_planned_maintenance_when_agreed():
    always = Calendar.always("UTC")
    march = month_index("2026-03")
    h = to_epoch(datetime(2026, 3, 10, tzinfo=UTC))
    outages = OutageArrays(
        start=np.array([h, h + 2 * HOUR, h + 20 * HOUR]),
        end=np.array([h + 4 * HOUR, h + 6 * HOUR, h + 30 * HOUR]),
        planned=np.array([False, False, True]),
    )
    as_of = to_epoch(datetime(2026, 6, 1, tzinfo=UTC))
    (excluded,) = availability_periods(
        always, [march], outages, D("99"), exclude_planned=True, as_of=as_of
    )
    assert excluded.agreed_seconds == 744 * HOUR - 10 * HOUR
    assert excluded.down_seconds == 6 * HOUR  # overlapping outages count once
    (counted,) = availability_periods(
        always, [march], outages, D("99"), exclude_planned=False, as_of=as_of
    )
    assert counted.agreed_seconds == 744 * HOUR and counted.down_seconds == 16 * HOUR
    assert excluded.met is True and counted.met is False
    # a month still running is measured up to as_of
    (partial,) = availability_periods(
        always, [march], outages, D("99.5"), exclude_planned=True, as_of=h + 5 * HOUR
    )
    assert partial.agreed_seconds == 9 * 24 * HOUR + 5 * HOUR and partial.down_seconds == 5 * HOUR
