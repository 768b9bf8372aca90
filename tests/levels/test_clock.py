"""Tests for the business-time SLA clock (pure Python, no database)."""

from __future__ import annotations

import os
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicebook.levels.bench import run_sla_benchmark
from servicebook.levels.clock import (
    DEFAULT_PRIORITY_MATRIX,
    END_OF_DAY,
    PRIORITY_LABELS,
    BusinessClock,
    Calendar,
    Pauses,
    PriorityMatrix,
    business_seconds,
    due_at,
    from_epoch,
    loop_business_seconds,
    loop_due,
    parse_window,
    priority,
    to_epoch,
)

HOUR = 3600
DAY = 86_400
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LUNCH = ((480, 720), (780, 1020))  # 08:00-12:00, 13:00-17:00

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(tz: ZoneInfo, *args: int) -> int:
    """Epoch seconds of a local wall-clock time (first occurrence if ambiguous)."""
    return to_epoch(datetime(*args, tzinfo=tz))


def seven_days(tz: str, windows=LUNCH, **kwargs) -> Calendar:
    return Calendar.office(tz, windows=windows, weekdays=range(7), **kwargs)


def elapsed(calendar: Calendar, start: int, end: int, pauses=None) -> int:
    if pauses is not None:
        pauses = Pauses(
            np.zeros(len(pauses), dtype=np.int64),
            np.array([p[0] for p in pauses], dtype=np.int64),
            np.array([p[1] for p in pauses], dtype=np.int64),
        )
    return int(business_seconds(calendar, start, end, pauses)[0])


# --------------------------------------------------------------------------- strategies

ZONES = [
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Santiago",  # transitions at midnight
    "Asia/Tokyo",
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # 30-minute DST
]
# 2024 DST transitions of the zones above (UTC epoch seconds).
TRANSITIONS = [1711846800, 1729990800, 1710054000, 1730613600, 1712415600, 1728142200]
TRANSITIONS += [1712458800, 1725768000]
SPAN_LO = to_epoch(datetime(2023, 12, 20, tzinfo=UTC))
SPAN_HI = to_epoch(datetime(2025, 1, 10, tzinfo=UTC))

minutes = st.one_of(
    st.integers(0, END_OF_DAY),
    st.sampled_from([0, 60, 90, 120, 135, 150, 180, 210, 480, 720, 780, 1020, 1380, 1440]),
)


@st.composite
def day_windows(draw) -> list[tuple[int, int]]:
    points = sorted(draw(st.lists(minutes, max_size=6, unique=True)))
    return list(zip(points[0::2], points[1::2], strict=False))


@st.composite
def calendars(draw) -> Calendar:
    tz = draw(st.sampled_from(ZONES))
    windows = {day: draw(day_windows()) for day in range(7)}
    country, subdivision = draw(
        st.sampled_from([(None, None), ("FR", None), ("US", None), ("DE", "BY")])
    )
    extra = draw(st.frozensets(st.dates(date(2023, 12, 15), date(2025, 1, 15)), max_size=8))
    return Calendar(tz, windows, country, subdivision, extra)


def weekly_minutes(calendar: Calendar) -> int:
    return sum(end - start for day in calendar.windows for start, end in day)


instants = st.one_of(
    st.integers(SPAN_LO, SPAN_HI),
    st.sampled_from(TRANSITIONS).flatmap(lambda t: st.integers(t - 3 * DAY, t + 3 * DAY)),
)


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(calendars(), st.lists(st.tuples(instants, instants, instants), min_size=1, max_size=40))
def test_additivity(calendar, triples):
    a, b, c = np.sort(np.array(triples, dtype=np.int64), axis=1).T
    whole = business_seconds(calendar, a, c)
    assert np.array_equal(
        whole, business_seconds(calendar, a, b) + business_seconds(calendar, b, c)
    )
    assert np.all(whole >= 0)
    assert np.all(whole <= c - a)


@PROPERTY
@given(calendars(), st.lists(st.tuples(instants, instants, instants), min_size=1, max_size=40))
def test_monotonic_in_end_and_antimonotonic_in_start(calendar, triples):
    a, b, c = np.sort(np.array(triples, dtype=np.int64), axis=1).T
    assert np.all(business_seconds(calendar, a, b) <= business_seconds(calendar, a, c))
    assert np.all(business_seconds(calendar, a, c) >= business_seconds(calendar, b, c))


@PROPERTY
@given(
    calendars().filter(lambda cal: weekly_minutes(cal) >= 60),
    st.lists(st.tuples(instants, st.integers(0, 200 * HOUR)), min_size=1, max_size=40),
)
def test_due_inverts_elapsed_and_is_earliest(calendar, rows):
    start = np.array([r[0] for r in rows], dtype=np.int64)
    target = np.array([r[1] for r in rows], dtype=np.int64)
    deadline = due_at(calendar, start, target)
    assert np.all(deadline >= start)
    assert np.array_equal(business_seconds(calendar, start, deadline), target)
    positive = target > 0
    earlier = business_seconds(calendar, start[positive], deadline[positive] - 1)
    assert np.all(earlier < target[positive])


@st.composite
def tickets_with_pauses(draw):
    n = draw(st.integers(1, 4))
    tickets, pauses = [], []
    for i in range(n):
        start = draw(instants)
        end = start + draw(st.integers(0, 9 * DAY))
        tickets.append((start, end))
        for _ in range(draw(st.integers(0, 3))):
            p_start = draw(st.integers(start - DAY, end + HOUR))
            pauses.append((i, p_start, p_start + draw(st.integers(0, 2 * DAY))))
    return tickets, draw(st.permutations(pauses))


@PROPERTY
@given(calendars(), tickets_with_pauses(), st.integers(0, 60 * HOUR))
def test_agrees_with_loop_oracle(calendar, tickets_pauses, target):
    tickets, pauses = tickets_pauses
    start = np.array([t[0] for t in tickets], dtype=np.int64)
    end = np.array([t[1] for t in tickets], dtype=np.int64)
    p = Pauses(
        np.array([q[0] for q in pauses], dtype=np.int64),
        np.array([q[1] for q in pauses], dtype=np.int64),
        np.array([q[2] for q in pauses], dtype=np.int64),
    )
    got = business_seconds(calendar, start, end, p)
    expected = [
        loop_business_seconds(calendar, s, e, [(q[1], q[2]) for q in pauses if q[0] == i])
        for i, (s, e) in enumerate(tickets)
    ]
    assert got.tolist() == expected
    assert np.all(got >= 0)
    if any(calendar.windows):
        assert due_at(calendar, start, target).tolist() == [
            loop_due(calendar, s, target) for s in start.tolist()
        ]


# --------------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (PARIS, (2024, 3, 31), 23),
        (PARIS, (2024, 10, 27), 25),
        (PARIS, (2024, 6, 12), 24),
        (NEW_YORK, (2024, 3, 10), 23),
        (NEW_YORK, (2024, 11, 3), 25),
    ],
)
def test_24x7_day_lengths_follow_dst(tz, day, hours):
    calendar = Calendar.always(tz.key)
    start = datetime(*day, tzinfo=tz)
    end = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=tz)
    assert elapsed(calendar, to_epoch(start), to_epoch(end)) == hours * HOUR
    assert loop_business_seconds(calendar, start, end) == hours * HOUR


@pytest.mark.parametrize(
    ("day", "window", "hours"),
    [
        ((2024, 3, 31), (60, 240), 2),  # 01:00-04:00 across the spring gap: 2 h real time
        ((2024, 3, 31), (150, 300), 2),  # 02:30 does not exist: starts at the jump (03:00)
        ((2024, 3, 31), (120, 150), 0),  # entirely inside the gap: empty
        ((2024, 10, 27), (120, 150), 0.5),  # ambiguous: first occurrence only
        ((2024, 10, 27), (60, 240), 4),  # 01:00-04:00 includes the repeated hour
        ((2024, 10, 27), (480, 1020), 9),  # ordinary hours are unaffected
    ],
)
def test_windows_on_dst_days_follow_the_documented_rule(day, window, hours):
    calendar = seven_days("Europe/Paris", windows=[window])
    start = at(PARIS, *day)
    end = start + 2 * DAY
    assert elapsed(calendar, start, end) - elapsed(calendar, start + DAY, end) == hours * HOUR
    assert loop_business_seconds(calendar, start, start + DAY) == hours * HOUR


def test_due_across_spring_forward_in_new_york():
    calendar = Calendar.always("America/New_York")
    start = at(NEW_YORK, 2024, 3, 10, 0)
    deadline = due_at(calendar, start, 24 * HOUR)[0]
    assert from_epoch(deadline, "America/New_York") == datetime(2024, 3, 11, 1, tzinfo=NEW_YORK)


# --------------------------------------------------------------------------- calendars


def test_lunch_break_is_not_counted():
    calendar = Calendar.office("Europe/Paris", windows=LUNCH)
    monday = at(PARIS, 2024, 6, 10, 7)
    assert elapsed(calendar, monday, at(PARIS, 2024, 6, 10, 19)) == 8 * HOUR
    assert elapsed(calendar, at(PARIS, 2024, 6, 10, 12), at(PARIS, 2024, 6, 10, 13)) == 0
    assert elapsed(calendar, at(PARIS, 2024, 6, 10, 11), at(PARIS, 2024, 6, 10, 14)) == 2 * HOUR
    # Friday 16:00 + 2 business hours = Monday 09:00 (weekend skipped).
    deadline = due_at(calendar, at(PARIS, 2024, 6, 14, 16), 2 * HOUR)[0]
    assert from_epoch(deadline, "Europe/Paris") == datetime(2024, 6, 17, 9, tzinfo=PARIS)


def test_holidays_from_the_package():
    france = seven_days("Europe/Paris", holiday_country="FR")
    assert elapsed(france, at(PARIS, 2024, 7, 14), at(PARIS, 2024, 7, 15)) == 0  # Bastille Day
    assert elapsed(france, at(PARIS, 2024, 7, 13), at(PARIS, 2024, 7, 14)) == 8 * HOUR
    berlin = ZoneInfo("Europe/Berlin")
    bavaria = seven_days("Europe/Berlin", holiday_country="DE", holiday_subdivision="BY")
    germany = seven_days("Europe/Berlin", holiday_country="DE", holiday_subdivision="BE")
    epiphany = (at(berlin, 2024, 1, 6), at(berlin, 2024, 1, 7))
    assert elapsed(bavaria, *epiphany) == 0
    assert elapsed(germany, *epiphany) == 8 * HOUR
    assert loop_business_seconds(bavaria, *epiphany) == 0


def test_own_extra_dates_are_closed():
    closed = seven_days("Europe/Paris", extra_holidays={date(2024, 6, 12)})
    day = (at(PARIS, 2024, 6, 12), at(PARIS, 2024, 6, 13))
    assert elapsed(closed, *day) == 0
    assert elapsed(seven_days("Europe/Paris"), *day) == 8 * HOUR


def test_time_zone_of_the_agreement_matters():
    start = to_epoch(datetime(2024, 6, 10, 0, tzinfo=UTC))  # Monday 00:00 UTC
    end = start + 10 * HOUR
    tokyo = Calendar.office("Asia/Tokyo", windows=[(540, 1080)])  # 09:00-18:00
    london = Calendar.office("Europe/London", windows=[(540, 1080)])
    assert elapsed(tokyo, start, end) == 9 * HOUR  # 09:00-19:00 JST
    assert elapsed(london, start, end) == 2 * HOUR  # 01:00-11:00 BST


def test_server_time_zone_is_irrelevant(monkeypatch):
    calendar = Calendar.office("Europe/Paris", holiday_country="FR")
    start, end = at(PARIS, 2024, 5, 6, 9), at(PARIS, 2024, 5, 10, 15)
    before = elapsed(calendar, start, end)
    if not hasattr(time_module, "tzset"):
        pytest.skip("no tzset on this platform")
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time_module.tzset()
    try:
        assert elapsed(calendar, start, end) == before
    finally:
        monkeypatch.undo()
        time_module.tzset()
    assert os.environ.get("TZ") != "Pacific/Kiritimati"


def test_closed_calendar_and_zero_target():
    closed = Calendar("UTC", {})
    assert elapsed(closed, 0, 10 * DAY) == 0
    assert due_at(closed, 5, 0).tolist() == [5]
    with pytest.raises(ValueError, match="cannot be met"):
        due_at(closed, 5, 1)
    office = Calendar.office("Europe/Paris")
    saturday = at(PARIS, 2024, 6, 15, 10)
    assert due_at(office, saturday, 0).tolist() == [saturday]


def test_results_are_a_pure_function_of_history_and_configuration():
    start, end = at(PARIS, 2024, 5, 6, 9), at(PARIS, 2024, 5, 10, 15)
    office = Calendar.office("Europe/Paris")
    first = elapsed(office, start, end)
    # 8 May (Victory in Europe Day) and 9 May 2024 (Ascension) are French holidays.
    with_holidays = Calendar.office("Europe/Paris", holiday_country="FR")
    assert elapsed(with_holidays, start, end) == first - 16 * HOUR
    assert elapsed(office, start, end) == first
    assert office == Calendar.office("Europe/Paris")
    assert hash(office) == hash(Calendar.office("Europe/Paris"))


# --------------------------------------------------------------------------- pauses


def test_pauses_outside_business_hours_count_zero():
    office = Calendar.office("Europe/Paris")
    start, end = at(PARIS, 2024, 6, 10, 9), at(PARIS, 2024, 6, 11, 12)
    night = (at(PARIS, 2024, 6, 10, 18), at(PARIS, 2024, 6, 11, 7))
    lunch = (at(PARIS, 2024, 6, 10, 12), at(PARIS, 2024, 6, 10, 13))
    assert elapsed(office, start, end) == 11 * HOUR
    assert elapsed(office, start, end, [night, lunch]) == 11 * HOUR


def test_overlapping_pauses_are_not_double_counted_and_are_clipped():
    office = Calendar.office("Europe/Paris")
    start, end = at(PARIS, 2024, 6, 10, 9), at(PARIS, 2024, 6, 10, 17)
    pauses = [
        (at(PARIS, 2024, 6, 10, 10), at(PARIS, 2024, 6, 10, 11)),
        (at(PARIS, 2024, 6, 10, 10, 30), at(PARIS, 2024, 6, 10, 11, 30)),
        (at(PARIS, 2024, 6, 10, 10), at(PARIS, 2024, 6, 10, 11)),  # duplicate
        (at(PARIS, 2024, 6, 10, 16), at(PARIS, 2024, 6, 12, 0)),  # runs past the end
        (at(PARIS, 2024, 6, 9, 0), at(PARIS, 2024, 6, 10, 9, 15)),  # starts before
    ]
    expected = 7 * HOUR - (90 * 60 + HOUR + 15 * 60)
    assert elapsed(office, start, end, pauses) == expected
    assert loop_business_seconds(office, start, end, pauses) == expected


def test_pauses_of_several_tickets_in_any_order():
    office = Calendar.office("Europe/Paris")
    start = np.array(
        [at(PARIS, 2024, 6, 10, 9), at(PARIS, 2024, 6, 11, 9), at(PARIS, 2024, 6, 12, 9)]
    )
    end = start + 8 * HOUR
    pauses = Pauses(
        np.array([2, 0, 2, 0]),
        np.array([start[2] + HOUR, start[0], start[2] + HOUR, start[0] + 30 * 60]),
        np.array([start[2] + 2 * HOUR, start[0] + HOUR, start[2] + 3 * HOUR, start[0] + HOUR]),
    )
    assert business_seconds(office, start, end, pauses).tolist() == [
        6 * HOUR,
        7 * HOUR,
        5 * HOUR,
    ]


# --------------------------------------------------------------------------- spans & inputs


def test_clock_span_is_strict_and_module_functions_size_it():
    calendar = Calendar.office("Europe/Paris", holiday_country="FR")
    lo, hi = at(PARIS, 2024, 6, 1), at(PARIS, 2024, 7, 1)
    clock = BusinessClock.build(calendar, lo, hi)
    assert clock.covers(lo, hi)
    assert clock.elapsed([lo], [hi]).tolist() == business_seconds(calendar, lo, hi).tolist()
    with pytest.raises(ValueError, match="outside the clock span"):
        clock.elapsed([lo], [hi + 1])
    with pytest.raises(ValueError, match="beyond the clock span"):
        clock.due([lo], [10_000 * HOUR])
    # A deadline years ahead is found by extending the span automatically.
    start = at(PARIS, 2024, 12, 20, 9)
    deadline = due_at(calendar, start, 3_000 * HOUR)[0]
    assert from_epoch(deadline).year == 2026
    assert business_seconds(calendar, start, deadline).tolist() == [3_000 * HOUR]
    assert loop_due(calendar, start, 3_000 * HOUR) == deadline


def test_datetime_and_datetime64_inputs():
    calendar = Calendar.office("Europe/Paris")
    start = datetime(2024, 6, 10, 9, tzinfo=PARIS)
    end = datetime(2024, 6, 10, 11, tzinfo=PARIS)
    assert business_seconds(calendar, [start], [end]).tolist() == [2 * HOUR]
    as64 = np.array([to_epoch(start), to_epoch(end)], dtype="datetime64[s]")
    assert business_seconds(calendar, as64[:1], as64[1:]).tolist() == [2 * HOUR]
    assert to_epoch(datetime(1970, 1, 1, 0, 0, 1, 999_999, tzinfo=UTC)) == 1
    assert from_epoch(to_epoch(start), "Europe/Paris") == start
    assert business_seconds(calendar, [], []).tolist() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"tz": ""}, "unknown time zone"),
        ({"windows": {0: [(600, 480)]}}, "0 <= start < end <= 1440"),
        ({"windows": {0: [(0, 1441)]}}, "0 <= start < end <= 1440"),
        ({"windows": {0: [(-5, 60)]}}, "0 <= start < end <= 1440"),
        ({"windows": {0: [(480, 720), (700, 800)]}}, "overlap"),
        ({"windows": {7: [(480, 720)]}}, "weekday keys"),
        ({"windows": {0: [(480,)]}}, "pair"),
        ({"windows": "nope"}, "windows must be"),
        ({"holiday_country": "XX"}, "unknown holiday country"),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "unknown holiday country"),
        ({"holiday_subdivision": "BY"}, "without holiday_country"),
        ({"extra_holidays": {datetime(2024, 1, 1)}}, "must contain dates"),
        ({"extra_holidays": {"2024-13-01"}}, "must contain dates"),
        ({"extra_holidays": "2024-01-01"}, "collection of dates"),
    ],
)
def test_calendar_validation(kwargs, message):
    arguments = {"tz": "Europe/Paris", "windows": {0: [(480, 720)]}} | kwargs
    with pytest.raises(ValueError, match=message):
        Calendar(**arguments)


def test_json_style_configuration():
    from_json = Calendar(
        "Europe/Paris",
        {"0": [[480, 720], [780, 1020]], "1": [[480, 720], [780, 1020]]},
        extra_holidays=["2024-06-11"],
    )
    assert from_json.windows[0] == ((480, 720), (780, 1020))
    assert from_json.windows[6] == ()
    assert from_json.extra_holidays == frozenset({date(2024, 6, 11)})
    assert from_json == Calendar.office(
        "Europe/Paris", weekdays=[0, 1], extra_holidays=[date(2024, 6, 11)]
    )
    as_sequence = Calendar("UTC", [[(0, 1440)]] * 7)
    assert as_sequence == Calendar.always("UTC")


def test_supported_years():
    calendar = Calendar.always("UTC")
    with pytest.raises(ValueError, match="supported years"):
        business_seconds(calendar, [to_epoch(datetime(1850, 1, 1, tzinfo=UTC))], [0])


def test_input_validation():
    calendar = Calendar.office("Europe/Paris")
    with pytest.raises(ValueError, match="before start"):
        business_seconds(calendar, [100], [99])
    with pytest.raises(ValueError, match=">= 0"):
        due_at(calendar, [100], [-1])
    with pytest.raises(ValueError, match="naive datetime"):
        business_seconds(calendar, [datetime(2024, 1, 1)], [datetime(2024, 1, 2)])
    with pytest.raises(ValueError, match="integer UTC epoch seconds"):
        business_seconds(calendar, [1.5], [2.5])
    with pytest.raises(ValueError, match="differ in length"):
        business_seconds(calendar, [1, 2], [3, 4, 5])
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        business_seconds(calendar, [0], [DAY], Pauses([0], [50], [40]))
    with pytest.raises(ValueError, match="ticket indexes"):
        business_seconds(calendar, [0], [DAY], Pauses([1], [40], [50]))
    with pytest.raises(ValueError, match="before its start"):
        BusinessClock.build(calendar, 10, 5)
    with pytest.raises(ValueError, match=r"end .* before start"):
        loop_business_seconds(calendar, 10, 5)


def test_parse_window():
    assert parse_window("08:00", "12:00") == (480, 720)
    assert parse_window(time(0, 0), "24:00") == (0, END_OF_DAY)
    assert parse_window(time(13, 30), time(17)) == (810, 1020)
    assert Calendar.always("UTC").windows[3] == ((0, END_OF_DAY),)
    with pytest.raises(ValueError, match="ambiguous"):
        parse_window("08:00", time(0, 0))
    with pytest.raises(ValueError, match="0 <= start < end"):
        parse_window("18:00", "08:00")
    with pytest.raises(ValueError, match="HH:MM"):
        parse_window("8h", "12:00")


# --------------------------------------------------------------------------- priority


def test_default_priority_matrix():
    expected = {
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
    for (impact, urgency), value in expected.items():
        assert priority(impact, urgency) == value
    assert DEFAULT_PRIORITY_MATRIX.as_dict() == expected
    assert PRIORITY_LABELS[priority(1, 1)] == "Critical"
    assert PRIORITY_LABELS[priority(3, 3)] == "Low"
    impacts, urgencies = np.meshgrid([1, 2, 3], [1, 2, 3], indexing="ij")
    assert DEFAULT_PRIORITY_MATRIX.priorities(impacts, urgencies).tolist() == [
        [1, 2, 3],
        [2, 3, 4],
        [3, 4, 4],
    ]


def test_custom_priority_matrix():
    matrix = PriorityMatrix({(i, u): min(5, i + u - 1) for i in range(1, 5) for u in range(1, 5)})
    assert priority(4, 4, matrix) == 5
    assert priority(1, 2, matrix) == 2
    assert matrix.priorities([1, 4], [1, 3]).tolist() == [1, 5]


@pytest.mark.parametrize(
    ("impact", "urgency"), [(0, 1), (4, 1), (1, 4), (-1, 2), (True, 1), (1.0, 1), ("1", 1)]
)
def test_priority_rejects_values_outside_the_matrix(impact, urgency):
    with pytest.raises(ValueError):
        priority(impact, urgency)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({}, "non-empty"),
        ({(1, 1): 1, (1, 2): 2, (2, 1): 2}, "missing"),
        ({(1, 1): 0}, ">= 1"),
        ({(0, 1): 1}, ">= 1"),
        ({(1,): 1}, "keys"),
    ],
)
def test_invalid_priority_matrix(cells, message):
    with pytest.raises(ValueError, match=message):
        PriorityMatrix(cells)


# --------------------------------------------------------------------------- benchmark


def test_benchmark_smoke():
    result = run_sla_benchmark(n=3_000, loop_sample=40, seed=3)
    assert result["tickets"] == 3_000
    assert result["loop_tickets"] == 40
    assert result["agree_on_sample"] is True
    assert result["pauses"] > 0
    for key in (
        "seconds",
        "tickets_per_s",
        "loop_seconds",
        "loop_tickets_per_s",
        "speedup_vs_loop",
    ):
        assert result[key] > 0
    assert "Europe/Paris" in result["calendar"]
