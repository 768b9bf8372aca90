"""R11/R16/R17 through the service layer: every policy branch and every refusal.

Negative tests also assert that nothing changed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from servicebook.catalog.models import Service
from servicebook.changes import services
from servicebook.changes.models import Approval, ChangeEvent, CustomerTask, TrainingRecord
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.parties import services as parties
from tests.changes.conftest import approve_all, impact_of, window


def _state(change):
    change.refresh_from_db()
    return (
        change.status,
        Approval.objects.filter(change=change).count(),
        sorted(change.impacts.values_list("decision", flat=True)),
        ChangeEvent.objects.filter(change=change).count(),
    )


# --- affected customers and how each authorizes -------------------------------------------------


def test_affected_customers_come_from_active_agreements(make_change):
    change = make_change("assessment")
    modes = {i.customer.code: i.authorization for i in change.impacts.select_related("customer")}
    # Hosting lines: Marketing and R&D (internal), SkyBridge, Pacific, Meridian (backups).
    assert modes == {
        "marketing": "co_authorize",
        "rnd": "co_authorize",
        "skybridge": "approval",
        "pacific": "approval",
        "meridian": "approval",
    }
    clause = impact_of(change, "skybridge").clause
    assert clause.scope == "major" and clause.requires_approval


def test_terminated_agreement_no_longer_makes_a_customer_affected(make_change, users):
    from servicebook.agreements.services import change_agreement_status

    pacific = impact_of(make_change("assessment"), "pacific").agreement
    change_agreement_status(actor=users["manager"], agreement=pacific, to_status="terminated")
    change = make_change("assessment")
    assert not change.impacts.filter(customer__code="pacific").exists()


def test_standard_change_is_pre_approved_internally_and_notified_per_contract(users):
    workplace = Service.objects.get(code="workplace")
    actor = users["change"]
    start, end = window(days=10)
    change = services.create_change(
        actor=actor,
        title="Patching",
        change_type="standard",
        services=[workplace],
        planned_start=start,
        planned_end=end,
    )
    services.start_assessment(actor=actor, change=change)
    retail = impact_of(change, "meridian")
    assert retail.authorization == "notification" and retail.notice_days == 5
    assert impact_of(change, "marketing").authorization == "pre_approved"
    services.assess_change(
        actor=actor, change=change, risk="low", service_impact="restart", cost_impact=D("10")
    )
    services.submit_for_approval(actor=actor, change=change)
    change.refresh_from_db()
    assert change.status == "approved"  # no IT or customer approval for a standard change
    retail.refresh_from_db()
    assert retail.decision == "notified" and retail.notified_at is not None
    change = services.schedule_change(actor=actor, change=change)
    assert change.status == "scheduled"


def test_notice_period_is_respected(users):
    workplace = Service.objects.get(code="workplace")
    actor = users["change"]
    start, end = window(days=2)  # Meridian's contract gives five days' notice
    change = services.create_change(
        actor=actor,
        title="Patching",
        change_type="standard",
        services=[workplace],
        planned_start=start,
        planned_end=end,
    )
    services.start_assessment(actor=actor, change=change)
    services.assess_change(
        actor=actor, change=change, risk="low", service_impact="restart", cost_impact=D("10")
    )
    services.submit_for_approval(actor=actor, change=change)
    before = _state(change)
    with pytest.raises(DomainError) as error:
        services.schedule_change(actor=actor, change=change)
    assert error.value.code == "notice_period" and "Meridian Retail" in error.value.message
    assert _state(change) == before
    start, end = window(days=10)  # five working days, whatever holidays fall in between
    services.set_schedule(actor=actor, change=change, planned_start=start, planned_end=end)
    change = services.schedule_change(actor=actor, change=change)
    assert change.status == "scheduled"


def test_an_external_customer_without_a_governing_clause_is_notified(make_change):
    from servicebook.agreements.models import Agreement

    Agreement.objects.get(reference="CT-SKY-2026").clauses.update(scope="emergency")
    Agreement.objects.get(reference="CT-SKY-2026").clauses.filter(requires_approval=False).delete()
    impact = impact_of(make_change("assessment"), "skybridge")
    assert impact.authorization == "notification" and impact.clause is None


def test_emergency_uses_the_most_specific_clause(make_change, users):
    from servicebook.agreements.models import ChangeClause

    sky = impact_of(make_change("assessment"), "skybridge").agreement
    ChangeClause.objects.create(
        agreement=sky, scope="emergency", requires_approval=False, notice_days=0
    )
    change = make_change("assessment", change_type="emergency")
    impact = impact_of(change, "skybridge")
    assert impact.authorization == "notification" and impact.clause.scope == "emergency"


# --- internal: co-authorization -----------------------------------------------------------------


def test_internal_approver_co_authorizes_alongside_it(make_change, users, contacts):
    change = make_change()
    marketing = impact_of(change, "marketing")
    approval = services.record_customer_decision(
        actor=users["internal"], impact=marketing, verdict="approve"
    )
    assert approval.contact == contacts["Clara Dupont"]  # the signed-in user acts as herself
    assert approval.value_at_stake == D("5000.00")  # internal: the change's cost impact
    assert change.status == "awaiting_approval"
    approve_all(change, users, contacts)
    assert change.status == "approved"
    assert {a.customer_id for a in change.approvals.all()} >= {None, marketing.customer_id}


def test_it_approval_alone_does_not_approve(make_change, users):
    change = make_change()
    services.record_it_decision(actor=users["change"], change=change, verdict="approve")
    change.refresh_from_db()
    assert change.status == "awaiting_approval"
    assert "Marketing" in services.missing_approvals(change)


def test_customer_rejection_rejects_the_change(make_change, users):
    change = make_change()
    services.record_customer_decision(
        actor=users["internal"], impact=impact_of(change, "marketing"), verdict="reject"
    )
    change.refresh_from_db()
    assert change.status == "rejected"
    with pytest.raises(DomainError):
        services.schedule_change(actor=users["change"], change=change)


def test_refused_contact_without_approver_role(make_change, users, contacts):
    change = make_change()
    before = _state(change)
    with pytest.raises(DomainError) as error:
        services.record_customer_decision(
            actor=users["change"],
            impact=impact_of(change, "rnd"),
            verdict="approve",
            contact=contacts["Tom Richter"],
        )
    assert error.value.code == "no_authority"
    assert "Tom Richter does not have the approver role" in error.value.message
    assert _state(change) == before


def test_refused_authority_limit_too_low(make_change, users):
    change = make_change(cost="250000")  # Clara's limit is EUR 200,000
    before = _state(change)
    with pytest.raises(DomainError) as error:
        services.record_customer_decision(
            actor=users["internal"], impact=impact_of(change, "marketing"), verdict="approve"
        )
    assert error.value.code == "no_authority"
    assert "Clara Dupont's authority limit of EUR 200,000.00" in error.value.message
    assert "EUR 250,000.00 at stake" in error.value.message
    assert _state(change) == before


def test_refused_inactive_contact(make_change, users, contacts):
    lena = contacts["Dr. Lena Novak"]
    parties.update_contact(actor=users["manager"], contact=lena, active=False)
    change = make_change()
    before = _state(change)
    with pytest.raises(DomainError, match="no longer an active contact"):
        services.record_customer_decision(
            actor=users["change"], impact=impact_of(change, "rnd"), verdict="approve", contact=lena
        )
    assert _state(change) == before


def test_refused_suspended_customer(make_change, users, customers):
    change = make_change()
    parties.change_customer_status(
        actor=users["manager"],
        customer=customers["marketing"],
        to_status="suspended",
        reason="illegal_use",
    )
    before = _state(change)
    with pytest.raises(DomainError) as error:
        services.record_customer_decision(
            actor=users["internal"], impact=impact_of(change, "marketing"), verdict="approve"
        )
    assert error.value.code == "customer_not_active"
    assert "Marketing is suspended" in error.value.message
    assert _state(change) == before


def test_a_customer_user_cannot_decide_for_another_customer(make_change, users):
    change = make_change()
    before = _state(change)
    with pytest.raises(PermissionDenied):
        services.record_customer_decision(
            actor=users["external"], impact=impact_of(change, "marketing"), verdict="approve"
        )
    assert _state(change) == before


def test_staff_without_change_role_cannot_record_decisions(make_change, users, contacts):
    change = make_change()
    with pytest.raises(PermissionDenied):
        services.record_customer_decision(
            actor=users["finance"],
            impact=impact_of(change, "marketing"),
            verdict="approve",
            contact=contacts["Clara Dupont"],
        )
    with pytest.raises(PermissionDenied):
        services.record_it_decision(actor=users["manager"], change=change, verdict="approve")


def test_staff_must_name_the_contact(make_change, users):
    change = make_change()
    with pytest.raises(DomainError, match="name the contact"):
        services.record_customer_decision(
            actor=users["change"], impact=impact_of(change, "marketing"), verdict="approve"
        )


def test_decisions_only_while_awaiting_approval(make_change, users):
    change = make_change("assessment")
    with pytest.raises(DomainError, match="cannot record"):
        services.record_customer_decision(
            actor=users["internal"], impact=impact_of(change, "marketing"), verdict="approve"
        )


def test_internal_customer_adds_tasks_and_co_owns_the_schedule(make_change, users, customers):
    change = make_change()
    task = services.add_customer_task(
        actor=users["internal"],
        change=change,
        customer=customers["marketing"],
        kind="test",
        title="Regression-test dashboards",
    )
    assert task.created_by == users["internal"] and task.kind == "test"
    start, end = window(days=25)
    services.set_schedule(
        actor=users["internal"],
        change=change,
        planned_start=start,
        planned_end=end,
        deployment_procedure="Marketing freezes campaigns first",
    )
    change.refresh_from_db()
    assert change.planned_start == start
    assert change.deployment_procedure == "Marketing freezes campaigns first"
    services.complete_customer_task(actor=users["internal"], task=task)
    task.refresh_from_db()
    assert task.done


# --- external: exactly what the contract documents ----------------------------------------------


def test_external_approval_where_the_clause_requires_it(make_change, users):
    change = make_change()
    approval = services.record_customer_decision(
        actor=users["external"], impact=impact_of(change, "skybridge"), verdict="approve"
    )
    assert approval.contact.name == "Marc Lefèvre"
    assert impact_of(change, "skybridge").decision == "approved"


def test_refused_approval_where_the_contract_asks_only_notice(make_change, users):
    from servicebook.agreements.models import Agreement

    # Meridian's "major" clause now covers emergencies only: a normal change falls under "any".
    Agreement.objects.get(reference="CT-MER-2026").clauses.filter(scope="major").update(
        scope="emergency"
    )
    change = make_change()
    retail = impact_of(change, "meridian")
    assert retail.authorization == "notification" and retail.decision == "notified"
    before = _state(change)
    with pytest.raises(DomainError) as error:
        services.record_customer_decision(
            actor=users["change"],
            impact=retail,
            verdict="approve",
            contact=retail.customer.contacts.get(name="Katrin Vogel"),
        )
    assert error.value.code == "approval_not_required"
    assert _state(change) == before


def test_price_impact_only_under_a_repricing_clause(make_change, users):
    change = make_change("assessment")
    with pytest.raises(DomainError) as error:
        services.set_price_impact(
            actor=users["change"], impact=impact_of(change, "marketing"), price_impact=D("10")
        )
    assert error.value.code == "no_repricing_clause"
    assert impact_of(change, "marketing").price_impact is None


def test_price_impact_must_be_accepted_before_scheduling(make_change, users, contacts):
    change = approve_all(make_change(price="350"), users, contacts)
    assert change.status == "approved"
    with pytest.raises(DomainError) as error:
        services.schedule_change(actor=users["change"], change=change)
    assert error.value.code == "price_not_accepted"
    assert "SkyBridge Airlines has not accepted the new price" in error.value.message
    change.refresh_from_db()
    assert change.status == "approved"
    impact = services.accept_price_impact(
        actor=users["external"], impact=impact_of(change, "skybridge")
    )
    assert impact.price_accepted_by.name == "Marc Lefèvre"
    change = services.schedule_change(actor=users["change"], change=change)
    assert change.status == "scheduled"


def test_refused_price_acceptance_without_authority(make_change, users, contacts):
    change = make_change(price="5000")  # 12 × 5,000 = 60,000 a year
    sky = impact_of(change, "skybridge")
    sophie = contacts["Sophie Martin"]  # not an approver
    with pytest.raises(DomainError, match="approver role"):
        services.accept_price_impact(actor=users["change"], impact=sky, contact=sophie)
    sophie.is_approver = True
    sophie.save()  # limit EUR 50,000 < 60,000 at stake
    with pytest.raises(DomainError) as error:
        services.accept_price_impact(actor=users["change"], impact=sky, contact=sophie)
    assert (
        "EUR 50,000.00" in error.value.message and "EUR 60,000.00 at stake" in error.value.message
    )
    sky.refresh_from_db()
    assert sky.price_accepted_at is None


def test_refused_price_acceptance_for_suspended_customer(make_change, users, customers):
    change = make_change(price="100")
    parties.change_customer_status(
        actor=users["manager"],
        customer=customers["skybridge"],
        to_status="suspended",
        reason="non_payment",
    )
    with pytest.raises(DomainError, match="SkyBridge Airlines is suspended"):
        services.accept_price_impact(actor=users["external"], impact=impact_of(change, "skybridge"))
    assert impact_of(change, "skybridge").price_accepted_at is None


def test_external_customer_cannot_add_tasks_or_set_the_schedule(make_change, users, customers):
    change = make_change()
    with pytest.raises(PermissionDenied, match="scripts your deployment steps"):
        services.add_customer_task(
            actor=users["external"],
            change=change,
            customer=customers["skybridge"],
            kind="test",
            title="We want to test",
        )
    start, end = window(days=45)
    with pytest.raises(PermissionDenied, match="provider sets the deployment schedule"):
        services.set_schedule(
            actor=users["external"], change=change, planned_start=start, planned_end=end
        )
    assert not CustomerTask.objects.filter(change=change).exists()
    change.refresh_from_db()
    assert change.planned_start != start


def test_external_tasks_are_scripted_deployment_steps(make_change, users, customers, contacts):
    change = make_change()
    sky = customers["skybridge"]
    with pytest.raises(DomainError) as error:
        services.add_customer_task(
            actor=users["change"], change=change, customer=sky, kind="build", title="Build"
        )
    assert error.value.code == "task_not_allowed"
    with pytest.raises(DomainError) as error:
        services.add_customer_task(
            actor=users["change"], change=change, customer=sky, kind="deployment", title="Deploy"
        )
    assert error.value.code == "script_required"
    assert not CustomerTask.objects.filter(change=change).exists()


def test_training_must_be_recorded_before_the_date(make_change, users, contacts, customers):
    change = approve_all(make_change(), users, contacts)
    sophie = contacts["Sophie Martin"]
    services.add_customer_task(
        actor=users["change"],
        change=change,
        customer=customers["skybridge"],
        kind="deployment",
        title="Remount volume",
        script="1. wait for go\n2. remount",
        contact=sophie,
    )
    with pytest.raises(DomainError) as error:
        services.schedule_change(actor=users["change"], change=change)
    assert error.value.code == "training_missing" and "Sophie Martin" in error.value.message
    late = change.planned_start.date() + dt.timedelta(days=1)
    services.record_training(
        actor=users["change"], change=change, contact=sophie, completed_on=late
    )
    with pytest.raises(DomainError) as error:
        services.schedule_change(actor=users["change"], change=change)
    assert error.value.code == "training_missing"
    change.refresh_from_db()
    assert change.status == "approved"
    record = TrainingRecord.objects.get(change=change, contact=sophie)
    record.completed_on = timezone.now().date()
    record.save()
    change = services.schedule_change(actor=users["change"], change=change)
    assert change.status == "scheduled"


def test_training_needs_an_affected_customer(make_change, users, contacts):
    change = make_change()
    with pytest.raises(DomainError, match="not affected"):
        services.record_training(
            actor=users["change"],
            change=change,
            contact=contacts["Amira Haddad"],  # HR has no hosting line
            completed_on=timezone.now().date(),
        )


# --- lifecycle ----------------------------------------------------------------------------------


def test_submit_needs_an_assessment(make_change, users):
    change = make_change("draft")
    services.start_assessment(actor=users["change"], change=change)
    with pytest.raises(DomainError) as error:
        services.submit_for_approval(actor=users["change"], change=change)
    assert error.value.code == "not_assessed"


def test_only_change_managers_raise_changes(users, hosting):
    for role in ("manager", "finance", "internal", "external"):
        with pytest.raises(PermissionDenied):
            services.create_change(actor=users[role], title="x", services=[hosting])


def test_normal_change_cannot_be_scheduled_before_approval(make_change, users):
    change = make_change()
    with pytest.raises(
        DomainError, match="is awaiting approval and cannot become scheduled: only an emergency"
    ) as refused:
        services.schedule_change(actor=users["change"], change=change)
    assert (refused.value.code, refused.value.field) == ("invalid_transition", "to_status")
    change.refresh_from_db()
    assert change.status == "awaiting_approval"


def test_emergency_change_approved_after_the_fact(make_change, users, contacts):
    change = make_change(change_type="emergency")
    actor = users["change"]
    change = services.schedule_change(actor=actor, change=change)
    services.implement_change(actor=actor, change=change)
    with pytest.raises(DomainError) as error:
        services.review_change(actor=actor, change=change)
    assert error.value.code == "approvals_missing"
    approve_all(change, users, contacts)
    assert change.approved_after_the_fact
    assert all(a.after_the_fact for a in change.approvals.all())
    assert change.events.filter(action="approved_after_the_fact").exists()
    change = services.review_change(actor=actor, change=change)
    assert change.status == "reviewed"


def test_every_step_writes_an_event(make_change, users, contacts):
    change = approve_all(make_change(), users, contacts)
    actions = list(change.events.values_list("action", flat=True))
    for expected in ("created", "status", "impact_derived", "assessed", "it_approve"):
        assert expected in actions
    status = change.events.filter(action="status").values_list("from_state", "to_state")
    assert ("awaiting_approval", "approved") in list(status)


def test_feed_rotation(users, customers):
    marketing = customers["marketing"]
    old = marketing.change_feed.token
    feed = services.rotate_feed(actor=users["internal"], customer=marketing)
    assert feed.token != old and len(feed.token) >= 32
    with pytest.raises(PermissionDenied):
        services.rotate_feed(actor=users["external"], customer=marketing)
    with pytest.raises(PermissionDenied):
        services.rotate_feed(actor=users["finance"], customer=marketing)
