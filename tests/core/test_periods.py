"""Periods: one YYYY-MM pattern (years 1900-2999), its dates and instants, moving between months."""

import calendar
import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicebook.core import params, periods
from servicebook.core.periods import (
    PeriodError,
    check_period,
    is_period,
    next_period,
    parse_period,
    period_bounds,
    period_dates,
    period_of,
    period_range,
    periods_ending,
    previous_period,
    shift_period,
)

valid = st.builds(
    lambda y, m: f"{y:04d}-{m:02d}",
    st.integers(periods.FIRST_YEAR, periods.LAST_YEAR),
    st.integers(1, 12),
)


@pytest.mark.parametrize("good", ["1900-01", "2026-10", "2999-12"])
def test_periods_a_calendar_holds(good):
    assert is_period(good) and check_period(good) == good


@pytest.mark.parametrize(
    "bad",
    ["1899-12", "3000-01", "9999-12", "0001-01", "2026-13", "2026-00", "2026-1", "26-10",
     "2026/10", "10-2026", " 2026-10", "2026-10 ", "2026-10-01", "", None, 202610, "２０２６-10"],
)  # fmt: skip
def test_anything_else_is_refused_with_what_to_write(bad):
    assert not is_period(bad)
    with pytest.raises(PeriodError, match=r"is not a period: use YYYY-MM, e.g. 2026-10"):
        parse_period(bad)
    with pytest.raises(ValueError):  # a PeriodError is a ValueError
        period_bounds(bad)


def test_query_parameters_fall_back_to_a_default():
    assert params.is_period is is_period and params.PERIOD_RE is periods.PERIOD_RE
    assert params.period("2026-10", "2026-01") == "2026-10"
    assert params.period("9999-12", "2026-01") == "2026-01"
    assert params.period(None) is None


def test_dates_of_a_period():
    assert parse_period("2024-02") == (2024, 2)
    assert period_dates("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert period_dates("2999-12") == (dt.date(2999, 12, 1), dt.date(2999, 12, 31))
    assert periods.first_day("2026-10") == dt.date(2026, 10, 1)
    assert period_of(dt.date(2026, 10, 31)) == "2026-10"
    assert period_of(dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.UTC)) == "2026-01"


def test_bounds_are_half_open_and_in_the_zone_asked():
    assert period_bounds("2026-12") == (
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    paris = ZoneInfo("Europe/Paris")
    start, end = period_bounds("2026-03", paris)
    assert (start.utcoffset(), end.utcoffset()) == (dt.timedelta(hours=1), dt.timedelta(hours=2))
    assert end - start == dt.timedelta(days=31)  # wall-clock days, one of them 23 h long
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(days=31, hours=-1)


def test_moving_between_months():
    assert next_period("2026-12") == "2027-01"
    assert previous_period("2026-01") == "2025-12"
    assert shift_period("2026-10", -22) == "2024-12"
    assert shift_period("1900-03", -6) == "1899-09"  # a window may reach before 1900
    assert period_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert period_range("2026-02", "2026-01") == []
    assert periods_ending("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert periods_ending("2026-02", 0) == []
    with pytest.raises(PeriodError, match="is not a period"):
        shift_period("2026-13", 1)


@given(valid)
def test_bounds_dates_and_period_of_agree(period):
    start, end = period_bounds(period)
    first, last = period_dates(period)
    assert (start.date(), (end - dt.timedelta(days=1)).date()) == (first, last)
    assert last.day == calendar.monthrange(first.year, first.month)[1]
    assert period_of(first) == period_of(last) == period
    assert period_of(end) == next_period(period)


@given(valid, st.integers(-2400, 2400))
def test_shifting_is_invertible_and_ranges_count_months(period, months):
    moved = shift_period(period, months)
    if not is_period(moved):
        return
    assert shift_period(moved, -months) == period
    if months >= 0:
        span = period_range(period, moved)
        assert len(span) == months + 1 and span[0] == period and span[-1] == moved
        assert span == sorted(span) and all(next_period(a) == b for a, b in pairwise(span))
