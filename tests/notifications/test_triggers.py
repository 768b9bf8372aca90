"""Who is told when: a change asks for approval, a customer is suspended, an action is given."""

from __future__ import annotations

import pytest

from servicebook.changes import services as changes
from servicebook.notifications.kinds import Kind
from servicebook.notifications.models import Notification
from servicebook.parties import services as parties
from servicebook.parties.models import Customer

pytestmark = pytest.mark.django_db


def told(kind) -> dict[str, Notification]:
    return {row.recipient.username: row for row in Notification.objects.filter(kind=kind)}


def test_a_change_submitted_asks_the_it_change_manager_and_the_customers_approvers(
    make_change, users
):
    Notification.objects.all().delete()
    change = make_change("submitted")
    asked = told(Kind.APPROVAL)
    assert "change" in asked  # the IT decision
    assert "external" in asked  # SkyBridge's approver: its contract asks for approval
    assert asked["external"].subject == f"Change {change.reference} awaits your decision"
    assert asked["external"].link == f"/changes/{change.pk}/"
    assert "manager" not in asked and "finance" not in asked


def test_nobody_is_asked_when_nothing_is_left_to_decide(make_change, users):
    change = make_change("assessment", change_type="standard")
    Notification.objects.all().delete()
    changes.submit_for_approval(actor=users["change"], change=change)
    change.refresh_from_db()
    assert change.status == "approved"
    assert not Notification.objects.filter(kind=Kind.APPROVAL).exists()


def test_a_suspension_tells_the_customer_and_the_service_managers(users):
    airline = Customer.objects.get(code="skybridge")
    Notification.objects.all().delete()
    parties.change_customer_status(
        actor=users["manager"], customer=airline, to_status="suspended", reason="illegal_use"
    )
    names = set(told(Kind.SUSPENSION))
    assert {"external", "manager", "admin"} <= names
    assert "internal" not in names  # Marketing is not told about SkyBridge


def test_an_action_owner_is_told(users):
    from servicebook.improvement import services as improvement
    from servicebook.improvement.models import Improvement, ImprovementStatus

    item = Improvement.objects.exclude(
        status__in=[ImprovementStatus.DONE, ImprovementStatus.VERIFIED, ImprovementStatus.DROPPED]
    ).first()
    Notification.objects.all().delete()
    improvement.add_action(
        actor=users["admin"],
        improvement=item,
        description="Call the carrier",
        owner_user=users["manager"],
    )
    (row,) = Notification.objects.filter(kind=Kind.IMPROVEMENT_ACTION)
    assert row.recipient == users["manager"] and "Call the carrier" in row.subject
