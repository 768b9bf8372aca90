"""R11: "five working days' notice" is counted in the agreement's business calendar (its
weekends and public holidays), not in calendar days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Service
from servicebook.changes import services

pytestmark = pytest.mark.django_db

FRIDAY = dt.datetime(2026, 12, 18, 9, 0, tzinfo=dt.UTC)  # Christmas week follows


def test_the_retailer_counts_in_its_berlin_calendar():
    retail = Agreement.objects.get(reference="CT-MER-2026", status="active")
    calendar = retail.business_calendar()
    assert calendar.holiday_country == "DE" and calendar.time_zone == "Europe/Berlin"
    # Mon 21, Tue 22, Wed 23, Thu 24, (Fri 25 and Sat 26 holidays, Sun 27), Mon 28
    assert retail.add_working_days(FRIDAY, 5) == dt.datetime(2026, 12, 28, 9, 0, tzinfo=dt.UTC)
    # a weekend alone: notified on Friday, five working days end the next Friday
    friday = dt.datetime(2026, 11, 13, 9, 0, tzinfo=dt.UTC)
    assert retail.add_working_days(friday, 5) == dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def test_a_window_inside_five_working_days_is_blocked(users):
    actor = users["change"]
    start = dt.datetime(2026, 12, 24, 18, 0, tzinfo=dt.UTC)  # 6 calendar days, 4 working days
    change = services.create_change(
        actor=actor,
        title="Patching over Christmas",
        change_type="standard",
        services=[Service.objects.get(code="workplace")],
        planned_start=start,
        planned_end=start + dt.timedelta(hours=2),
    )
    services.start_assessment(actor=actor, change=change)
    services.assess_change(
        actor=actor, change=change, risk="low", service_impact="restart", cost_impact=D("10")
    )
    services.submit_for_approval(actor=actor, change=change)
    change.impacts.filter(customer__code="meridian").update(notified_at=FRIDAY)
    blockers = dict(services.schedule_blockers(change))
    assert "Meridian Retail must get 5 working days' notice" in blockers["notice_period"]
    assert "2026-12-28 09:00" in blockers["notice_period"]
    # on the 28th at the notified time of day, the notice is given
    later = dt.datetime(2026, 12, 28, 9, 0, tzinfo=dt.UTC)
    change.__class__.objects.filter(pk=change.pk).update(
        planned_start=later, planned_end=later + dt.timedelta(hours=2)
    )
    change.refresh_from_db()
    assert "notice_period" not in dict(services.schedule_blockers(change))
