"""Fixtures of the service level tests: a fresh contract and a fresh internal SLA with targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from servicebook.agreements import services as agreements
from servicebook.agreements.models import Calendar
from servicebook.catalog.models import Offering
from servicebook.levels import services
from servicebook.parties.models import Customer


def _agreement(users, code, reference, *, cap=None):
    manager = users["manager"]
    agreement = agreements.create_agreement(
        actor=manager,
        customer=Customer.objects.get(code=code),
        reference=reference,
        title="Test",
        start_date=dt.date(2026, 1, 1),
    )
    agreements.add_line(
        actor=manager,
        agreement=agreement,
        offering=Offering.objects.get(code="desk-user"),
        quantity=D(100),
        unit_price=D(10),
    )
    if cap is not None:
        agreements.update_agreement(actor=manager, agreement=agreement, credit_cap_percent=cap)
    return agreement


@pytest.fixture
def contract(users):
    """A contract of Meridian Retail: fee EUR 1,000 a month, credits capped at 12%."""
    manager = users["manager"]
    agreement = _agreement(users, "meridian", "CT-TEST", cap=D("12"))
    paris = Calendar.objects.get(name="Paris office hours")
    always = Calendar.objects.get(name="24×7")
    desk = Offering.objects.get(code="desk-user").service
    add = agreements.add_target
    agreement.t_p1 = add(
        actor=manager,
        agreement=agreement,
        metric="resolution_time",
        priority=1,
        threshold_minutes=240,
        attainment_percent=D("95"),
        calendar=paris,
        credit_tiers=[(D("95"), D("5"))],
    )
    agreement.t_p2 = add(
        actor=manager,
        agreement=agreement,
        metric="resolution_time",
        priority=2,
        threshold_minutes=480,
        attainment_percent=D("90"),
        calendar=paris,
        credit_tiers=[(D("90"), D("4")), (D("50"), D("8"))],
    )
    agreement.t_avail = add(
        actor=manager,
        agreement=agreement,
        metric="availability",
        service=desk,
        attainment_percent=D("99.5"),
        calendar=always,
        credit_tiers=[(D("99.5"), D("5"))],
    )
    agreement.desk = desk
    return agreement


@pytest.fixture
def sla(users):
    """An internal SLA of Human Resources with a P1 resolution target of 4 business hours."""
    agreement = _agreement(users, "hr", "SLA-TEST")
    agreement.t_p1 = agreements.add_target(
        actor=users["manager"],
        agreement=agreement,
        metric="resolution_time",
        priority=1,
        threshold_minutes=240,
        attainment_percent=D("95"),
        calendar=Calendar.objects.get(name="Paris office hours"),
    )
    return agreement


@pytest.fixture
def tickets(users):
    """``tickets(reference, rows)`` imports generic-CSV rows onto that agreement."""

    def load(reference, rows):
        columns = sorted({key for row in rows for key in row})
        return services.import_tickets(
            actor=users["manager"],
            rows=rows,
            fmt="csv",
            columns=columns,
            agreement=reference,
            source="test",
        )

    return load
