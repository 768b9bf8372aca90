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


def test_an_order_above_the_limit_asks_the_approver_and_the_decision_tells_the_requester(users):
    from servicebook.agreements.orders import services as orders
    from servicebook.agreements.orders.models import Order
    from servicebook.catalog.models import Offering
    from servicebook.core.models import User
    from servicebook.notifications.work import my_work

    requester = User.objects.get(username="external-requester")
    approver = users["external"]
    agreement = Order.objects.filter(agreement__customer=requester.customer).first().agreement
    offering = Offering.objects.get(pk=agreement.lines.first().offering_id)
    Notification.objects.all().delete()
    order = orders.submit_order(
        actor=requester, agreement=agreement, offering=offering, quantity=40
    )
    assert order.status == "awaiting_approval"
    (asked,) = Notification.objects.filter(kind=Kind.ORDER)
    assert asked.recipient == approver
    assert asked.subject == f"Order {order.reference} awaits your approval"
    assert "cost" not in asked.body.lower()  # an external customer sees the price (R7)
    assert any(item.link == f"/agreements/orders/{order.pk}/" for item in my_work(approver))
    orders.approve_order(actor=approver, order=order, reason="budgeted")
    told = Notification.objects.get(kind=Kind.ORDER, recipient=requester)
    assert told.subject == f"Order {order.reference} approved"


def test_a_portal_ticket_tells_the_service_managers_and_the_customers_approver(users):
    from servicebook.agreements.models import Agreement
    from servicebook.core.models import User
    from servicebook.levels.selfservice import services as portal
    from servicebook.notifications.work import my_work

    requester = User.objects.get(username="external-requester")
    agreement = Agreement.objects.filter(customer=requester.customer, status="active").first()
    Notification.objects.all().delete()
    ticket = portal.raise_ticket(
        actor=requester,
        agreement=agreement,
        kind="incident",
        short_description="Check-in kiosks offline",
        impact=1,
        urgency=1,
    )
    names = set(told(Kind.TICKET))
    assert {"manager", "external"} <= names and "external-requester" not in names
    assert any(ticket.number in item.title for item in my_work(users["external"]))


def test_a_credit_earned_is_told_once_and_a_missed_internal_target_too(contract, sla, tickets):
    from tests.levels.test_attainment import FEB

    Notification.objects.all().delete()
    tickets("CT-TEST", FEB)  # Meridian's contract: P1 and P2 credits earned in February
    credit_notes = Notification.objects.filter(kind=Kind.CREDIT)
    subjects = {row.subject for row in credit_notes}
    assert any(s.startswith("Service credit on CT-TEST for 2026-02: EUR") for s in subjects)
    assert {"manager", "finance"} <= {row.recipient.username for row in credit_notes}
    count = credit_notes.count()
    tickets("CT-TEST", FEB)  # the same export again: nothing new is earned, nobody told again
    assert Notification.objects.filter(kind=Kind.CREDIT).count() == count
    hr = [{**row, "number": f"HR-{row['number']}"} for row in FEB]
    tickets("SLA-TEST", hr)  # HR's internal SLA: an improvement item, no credit
    (breach, *_) = Notification.objects.filter(kind=Kind.BREACH, recipient__username="manager")
    assert breach.subject.startswith("Target missed on SLA-TEST in 2026-02")


def test_overdue_invoices_are_told_to_finance_once(users):
    import datetime as dt

    from servicebook import ports

    Notification.objects.all().delete()
    tell = dict(ports.daily_notices.labelled())["finance"]
    count = tell(today=dt.date(2026, 11, 30))
    assert count >= 1  # the demo's unpaid invoices
    rows = Notification.objects.filter(kind=Kind.OVERDUE_INVOICE)
    assert {row.recipient.username for row in rows} == {"finance"}
    assert all(row.subject.endswith("is overdue") for row in rows)
    assert tell(today=dt.date(2026, 11, 30)) == 0  # once per invoice


def test_targets_at_risk_this_month_are_told_to_the_service_managers_once(contract, tickets):
    import datetime as dt

    from servicebook.levels.notices import tell_targets_at_risk
    from tests.levels.test_attainment import FEB

    tickets("CT-TEST", FEB)  # February's P1 target is missed
    Notification.objects.all().delete()
    assert tell_targets_at_risk(today=dt.date(2026, 2, 20)) >= 1
    rows = Notification.objects.filter(kind=Kind.TARGET_AT_RISK)
    assert {row.recipient.username for row in rows} == {"manager"}
    assert any("CT-TEST" in row.subject for row in rows)
    assert tell_targets_at_risk(today=dt.date(2026, 2, 21)) == 0


def test_an_agreement_in_negotiation_asks_the_customers_approvers_to_sign(users):
    import datetime as dt

    from servicebook.agreements import services as agreements

    draft = agreements.create_agreement(
        actor=users["manager"],
        customer=Customer.objects.get(code="skybridge"),
        reference="CT-SKY-NEXT",
        title="Next year",
        start_date=dt.date(2027, 1, 1),
    )
    Notification.objects.all().delete()
    agreements.change_agreement_status(
        actor=users["manager"], agreement=draft, to_status="negotiation"
    )
    (row,) = Notification.objects.filter(kind=Kind.APPROVAL)
    assert row.recipient == users["external"]
    assert row.subject == "Agreement CT-SKY-NEXT awaits your review and signature"


def test_last_months_survey_waits_in_my_work_until_answered(users, web_for):
    from servicebook.notifications.work import my_work

    surveys = [item for item in my_work(users["internal"]) if item.kind == Kind.SURVEY]
    assert surveys, "Marketing has services on its SLA"
    survey = surveys[0]
    page = web_for(users["internal"]).get(survey.link)
    assert page.status_code == 200
    form = page.context["form"]
    service, period = form.initial["service"], form.initial["period"]
    answered = web_for(users["internal"]).post(
        survey.link.split("?")[0], {"service": service, "period": period, "score": 4}
    )
    assert answered.status_code == 302
    left = [item.link for item in my_work(users["internal"]) if item.kind == Kind.SURVEY]
    assert survey.link not in left
    assert all(item.kind != Kind.SURVEY for item in my_work(users["manager"]))
