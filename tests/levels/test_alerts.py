"""At-risk warnings: 75% of a target used warns the assignment group's owner, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicebook.levels.alerts import warn_at_risk
from servicebook.levels.models import AssignmentGroup, TicketAlert
from servicebook.notifications.kinds import Kind
from servicebook.notifications.models import Notification

pytestmark = pytest.mark.django_db

OPENED = "2026-02-02T09:00:00+01:00"  # Monday 9:00 in Paris; P1 resolution: 4 business hours


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 2, 2, hour, minute, tzinfo=UTC)  # Paris is UTC+1 in February


@pytest.fixture
def open_ticket(contract, tickets, users):
    tickets(
        "CT-TEST",
        [{"number": "RISKY", "priority": "1", "opened_at": OPENED, "assignment_group": "Desk"}],
    )
    AssignmentGroup.objects.create(name="Desk", owner=users["manager"])
    Notification.objects.filter(kind=Kind.TICKET_AT_RISK).delete()
    return contract


def test_no_warning_before_three_quarters_of_the_target(open_ticket):
    assert warn_at_risk(as_of=at(10, 59))["warned"] == 0  # 2 h 59 of 4 h used
    assert not TicketAlert.objects.exists()


def test_the_owner_is_warned_once_past_three_quarters(open_ticket, users):
    assert warn_at_risk(as_of=at(11, 1)) == {"checked": 1, "warned": 1}  # 3 h 01 used
    (note,) = Notification.objects.filter(kind=Kind.TICKET_AT_RISK)
    assert note.recipient == users["manager"]
    assert note.subject == "Ticket RISKY has used 75% of its resolution time target"
    assert warn_at_risk(as_of=at(12))["warned"] == 0  # once
    assert Notification.objects.filter(kind=Kind.TICKET_AT_RISK).count() == 1


def test_a_resolved_ticket_is_never_at_risk(contract, tickets):
    tickets(
        "CT-TEST",
        [
            {
                "number": "DONE",
                "priority": "1",
                "opened_at": OPENED,
                "resolved_at": "2026-02-02T10:00:00+01:00",
            }
        ],
    )
    assert warn_at_risk(as_of=at(16))["warned"] == 0


def test_without_an_owner_the_service_managers_are_warned(contract, tickets, users):
    tickets("CT-TEST", [{"number": "ORPHAN", "priority": "1", "opened_at": OPENED}])
    warn_at_risk(as_of=at(11, 30))
    names = {n.recipient.username for n in Notification.objects.filter(kind=Kind.TICKET_AT_RISK)}
    assert "manager" in names and "external" not in names
