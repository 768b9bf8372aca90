"""The register's rules through the service layer: drivers and involvement by policy (R14),
the in-difficulty invitation, the workflow, and refusals that change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.improvement import selectors, services
from servicebook.improvement.models import (
    Improvement,
    ImprovementEvent,
    Participant,
    PlanApproval,
)
from servicebook.parties import services as parties
from servicebook.parties.models import Customer, Objective
from servicebook.policy import policy_for


def _snapshot(item: Improvement) -> tuple:
    item = Improvement.objects.get(pk=item.pk)
    return (
        item.status,
        item.driver,
        item.events.count(),
        item.participants.count(),
        item.approvals.count(),
        item.actions.count(),
    )


# --- drivers (R14) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "driver"),
    [
        ("marketing", "business_impact"),
        ("hr", "cost_quality_balance"),
        ("skybridge", "retention"),
        ("meridian", "competitiveness"),
        ("pacific", "cost_reduction"),
    ],
)
def test_each_kind_accepts_its_own_drivers(customers, make_item, code, driver):
    item = make_item(customers[code], driver)
    assert item.status == "proposed" and item.driver == driver
    assert driver in policy_for(customers[code]).improvement_drivers
    assert ImprovementEvent.objects.filter(improvement=item, action="created").count() == 1


@pytest.mark.parametrize(
    ("code", "driver"),
    [
        ("marketing", "retention"),
        ("finance-dept", "competitiveness"),
        ("skybridge", "business_impact"),
        ("meridian", "cost_quality_balance"),
    ],
)
def test_a_driver_of_the_other_kind_is_refused(customers, make_item, code, driver):
    before = Improvement.objects.count()
    with pytest.raises(ValidationError) as error:
        make_item(customers[code], driver)
    assert "driver" in error.value.message_dict
    assert Improvement.objects.count() == before


def test_a_plan_mixing_kinds_has_no_valid_driver(customers, make_item):
    before = Improvement.objects.count()
    with pytest.raises(ValidationError, match="plan it separately"):
        make_item(customers["marketing"], "business_impact", customers=[customers["skybridge"]])
    assert Improvement.objects.count() == before


def test_business_objectives_driver_links_a_shared_objective(customers, make_item):
    marketing = customers["marketing"]
    with pytest.raises(ValidationError) as error:
        make_item(marketing, "business_objectives")
    assert "objective" in error.value.message_dict
    research = Objective.objects.get(title__startswith="Protect the group's research")
    with pytest.raises(ValidationError, match="not an objective Marketing is linked to"):
        make_item(marketing, "business_objectives", objective=research)
    growth = Objective.objects.get(title__startswith="Grow digital revenue")
    item = make_item(marketing, "business_objectives", objective=growth)
    assert item.objective == growth


def test_external_customers_record_no_objective_but_their_profitability(customers, make_item):
    growth = Objective.objects.get(title__startswith="Grow digital revenue")
    with pytest.raises(ValidationError, match="does not share the organization's objectives"):
        make_item(customers["skybridge"], "retention", objective=growth)
    item = make_item(customers["skybridge"], "retention")
    margin, period = selectors.profitability(customers["skybridge"])
    assert margin is not None and item.customer_profitability == margin
    assert item.profitability_period == period
    internal = make_item(customers["marketing"], "business_impact")
    assert internal.customer_profitability is None  # internal charges are not revenue


def test_a_proposed_item_states_its_expected_result(customers, users):
    with pytest.raises(ValidationError) as error:
        services.create_improvement(
            actor=users["manager"],
            customer=customers["marketing"],
            title="Vague",
            source="feedback",
            driver="business_impact",
        )
    assert {"expected_value", "expected_by", "expected_measure"} <= set(error.value.message_dict)
    draft = services.create_improvement(
        actor=users["manager"],
        customer=customers["marketing"],
        title="Vague",
        source="feedback",
        status="draft",
    )
    with pytest.raises(ValidationError):
        services.propose(actor=users["manager"], improvement=draft)
    assert Improvement.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.parametrize("who", ["finance", "change", "internal", "external"])
def test_only_service_managers_register_improvements(customers, users, who):
    before = Improvement.objects.count()
    with pytest.raises(PermissionDenied):
        services.create_improvement(
            actor=users[who],
            customer=customers["marketing"],
            title="x",
            source="feedback",
            status="draft",
        )
    assert Improvement.objects.count() == before


# --- involvement (R14) ----------------------------------------------------------------------------


def test_internal_customer_takes_part_and_approves_the_plan(customers, contacts, users, make_item):
    item = make_item(customers["marketing"], "business_impact")
    clara = users["internal"]
    assert selectors.viewer(clara).level(item) == selectors.DETAIL
    member = services.add_participant(
        actor=users["manager"], improvement=item, contact=contacts["marketing"]
    )
    assert member.invited is False
    with pytest.raises(DomainError, match="must approve it first"):
        services.approve_plan(actor=users["manager"], improvement=item)
    assert Improvement.objects.get(pk=item.pk).status == "proposed"
    services.approve_plan(actor=clara, improvement=item, note="Go")
    item.refresh_from_db()
    assert item.status == "approved"
    approval = PlanApproval.objects.get(improvement=item)
    assert approval.contact == contacts["marketing"] and approval.actor == clara
    actions = list(item.events.values_list("action", flat=True))
    assert actions[-2:] == ["customer_approved", "approved"]


def test_a_plan_for_two_internal_customers_waits_for_both(customers, contacts, users, make_item):
    item = make_item(customers["finance-dept"], "cost_quality_balance", customers=[customers["hr"]])
    services.approve_plan(actor=users["manager"], improvement=item, contact=contacts["hr"])
    item.refresh_from_db()
    assert item.status == "proposed"
    assert [c.code for c in selectors.missing_approvals(item)] == ["finance-dept"]
    services.approve_plan(
        actor=users["manager"], improvement=item, contact=contacts["finance-dept"]
    )
    item.refresh_from_db()
    assert item.status == "approved"
    with pytest.raises(DomainError, match="is approved and cannot become approved") as refused:
        services.approve_plan(actor=users["manager"], improvement=item, contact=contacts["hr"])
    assert (refused.value.code, refused.value.field) == ("invalid_transition", "to_status")


def test_external_customer_not_in_difficulty_sees_results_only(customers, contacts, users, items):
    item = items["frankfurt"]
    external = users["external"]
    assert selectors.viewer(external).level(item) == selectors.RESULTS
    before = _snapshot(item)
    with pytest.raises(DomainError, match="can be invited into a plan while its relationship"):
        services.add_participant(
            actor=users["manager"], improvement=item, contact=contacts["skybridge"]
        )
    action = item.actions.first()
    with pytest.raises(PermissionDenied, match="expected results of this plan only"):
        services.comment_on_action(actor=external, action=action, body="Let me in")
    with pytest.raises(DomainError, match="does not take part"):
        services.add_action(
            actor=users["manager"],
            improvement=item,
            description="x",
            owner_contact=contacts["skybridge"],
        )
    assert _snapshot(item) == before
    assert not action.comments.exists()


def test_external_customer_in_difficulty_is_invited_and_takes_part(
    customers, contacts, users, items
):
    item = items["frankfurt"]
    airline, external, manager = customers["skybridge"], users["external"], users["manager"]
    parties.flag_in_difficulty(actor=manager, customer=airline, reason="Releases keep failing")
    # flagged, but not yet invited: still the results only
    assert selectors.viewer(external).level(item) == selectors.RESULTS
    participant = services.add_participant(
        actor=manager, improvement=item, contact=contacts["skybridge"], note="come in"
    )
    assert participant.invited is True
    event = item.events.get(action="invited")
    assert event.reason == "in_difficulty" and event.actor == manager
    assert selectors.viewer(external).level(item) == selectors.DETAIL
    action = item.actions.filter(done=False).first()
    comment = services.comment_on_action(actor=external, action=action, body="We can help test")
    assert comment.author == external
    # other plans of the same customer stay results-only: the invitation is per plan
    assert selectors.viewer(external).level(items["tiers"]) == selectors.RESULTS
    # clearing the flag closes the detail again (the invitation stays recorded)
    parties.clear_in_difficulty(actor=manager, customer=airline, note="Better")
    assert selectors.viewer(external).level(item) == selectors.RESULTS
    assert Participant.objects.filter(improvement=item, invited=True).exists()


def test_invited_external_customer_approves_the_plan(customers, contacts, users, make_item):
    airline, manager = customers["skybridge"], users["manager"]
    item = make_item(airline, "retention")
    # not involved: the provider approves alone
    other = make_item(airline, "competitiveness")
    with pytest.raises(DomainError, match="sees the expected results of this plan only"):
        services.approve_plan(actor=users["external"], improvement=other)
    services.approve_plan(actor=manager, improvement=other)
    assert Improvement.objects.get(pk=other.pk).status == "approved"
    parties.flag_in_difficulty(actor=manager, customer=airline, reason="Renewal at risk")
    services.add_participant(actor=manager, improvement=item, contact=contacts["skybridge"])
    with pytest.raises(DomainError, match="must approve it first"):
        services.approve_plan(actor=manager, improvement=item)
    services.approve_plan(actor=users["external"], improvement=item)
    assert Improvement.objects.get(pk=item.pk).status == "approved"


def test_customer_users_act_only_on_their_own_plans(customers, contacts, users, items):
    launch = items["resets"]  # Finance and HR: Marketing's user is not concerned
    before = _snapshot(launch)
    with pytest.raises(PermissionDenied):
        services.comment_on_action(
            actor=users["internal"], action=launch.actions.first(), body="hello"
        )
    with pytest.raises(PermissionDenied):
        services.add_participant(
            actor=users["internal"], improvement=launch, contact=contacts["hr"]
        )
    assert _snapshot(launch) == before


# --- workflow -------------------------------------------------------------------------------------


def test_full_workflow_with_measured_result(customers, contacts, users, make_item):
    manager = users["manager"]
    item = make_item(customers["hr"], "business_impact", expected_direction="at_most")
    action = services.add_action(
        actor=manager,
        improvement=item,
        description="Train the HR desk",
        owner_contact=contacts["hr"],
        due=dt.date(2027, 1, 10),
    )
    services.approve_plan(actor=manager, improvement=item, contact=contacts["hr"])
    services.start(actor=manager, improvement=item)
    with pytest.raises(DomainError, match="still open"):
        services.complete(actor=manager, improvement=item)
    services.complete_action(actor=manager, action=action)
    services.complete(actor=manager, improvement=item)
    with pytest.raises(DomainError, match="is proposed and cannot become verified"):
        services.verify(
            actor=manager,
            improvement=make_item(customers["hr"], "business_impact"),
            measured_value=D("1"),
        )
    item = services.verify(actor=manager, improvement=item, measured_value=D("90"))
    assert item.status == "verified" and item.result_met is True  # at most 95
    assert item.result_gap == D("-5")
    steps = list(item.events.exclude(to_state="").values_list("to_state", flat=True))
    assert steps == ["proposed", "approved", "in_progress", "done", "verified"]
    with pytest.raises(DomainError, match="cannot become"):
        services.drop(actor=manager, improvement=item, reason="late")
    with pytest.raises(DomainError, match="no longer changes"):
        services.update_improvement(actor=manager, improvement=item, title="New")


def test_an_approved_plan_no_longer_changes_but_may_be_dropped(customers, users, make_item):
    manager = users["manager"]
    item = make_item(customers["skybridge"], "competitiveness")
    services.update_improvement(actor=manager, improvement=item, expected_value=D("97"))
    services.approve_plan(actor=manager, improvement=item)
    with pytest.raises(DomainError, match="plan is approved"):
        services.update_improvement(actor=manager, improvement=item, expected_value=D("99"))
    services.update_improvement(actor=manager, improvement=item, internal_notes="watch margin")
    item.refresh_from_db()
    assert item.expected_value == D("97") and item.internal_notes == "watch margin"
    note = item.events.filter(action="updated").last().note
    assert "watch margin" not in note  # internal notes never go into the shared history
    with pytest.raises(ValidationError):
        services.drop(actor=manager, improvement=item, reason=" ")
    services.drop(actor=manager, improvement=item, reason="Customer chose another option")
    assert Improvement.objects.get(pk=item.pk).status == "dropped"


def test_only_the_owner_or_staff_complete_an_action(customers, contacts, users, items):
    item = items["launch"]
    clara = users["internal"]
    manager = users["manager"]
    open_item = services.create_improvement(
        actor=manager,
        customer=customers["marketing"],
        title="Another",
        source="feedback",
        status="draft",
    )
    mine = services.add_action(
        actor=manager,
        improvement=open_item,
        description="Clara's",
        owner_contact=contacts["marketing"],
    )
    theirs = services.add_action(
        actor=manager, improvement=open_item, description="IT's", owner_user=manager
    )
    with pytest.raises(PermissionDenied, match="only its owner"):
        services.complete_action(actor=clara, action=theirs)
    services.complete_action(actor=clara, action=mine)
    assert open_item.actions.filter(done=True).count() == 1
    with pytest.raises(DomainError, match="already done"):
        services.complete_action(actor=manager, action=mine)
    assert item.status == "verified"


def test_an_action_owner_is_a_provider_user_or_a_participating_contact(customers, users, items):
    item = Improvement.objects.get(pk=items["frankfurt"].pk)
    with pytest.raises(ValidationError):
        services.add_action(
            actor=users["manager"], improvement=item, description="x", owner_user=users["external"]
        )
    with pytest.raises(ValidationError):
        services.add_action(actor=users["manager"], improvement=item, description="no owner")
    assert item.actions.count() == 2


# --- service reviews ------------------------------------------------------------------------------


def test_service_review_prepared_once_then_held(customers, users):
    manager = users["manager"]
    review = services.prepare_review(actor=manager, customer=customers["hr"], period="2026-10")
    with pytest.raises(DomainError, match="already prepared"):
        services.prepare_review(actor=manager, customer=customers["hr"], period="2026-10")
    with pytest.raises(ValidationError):
        services.record_review_held(
            actor=manager, review=review, meeting_on=dt.date(2026, 11, 20), minutes=""
        )
    with pytest.raises(PermissionDenied):
        services.record_review_held(
            actor=users["internal"], review=review, meeting_on=dt.date(2026, 11, 20), minutes="x"
        )
    review = services.record_review_held(
        actor=manager, review=review, meeting_on=dt.date(2026, 11, 20), minutes="All good."
    )
    assert review.status == "held"
    assert list(review.events.values_list("action", flat=True)) == ["prepared", "held"]
    with pytest.raises(DomainError, match="is held and cannot become held") as refused:
        services.record_review_held(
            actor=manager, review=review, meeting_on=dt.date(2026, 11, 21), minutes="Again."
        )
    assert refused.value.code == "invalid_transition"
    assert review.events.count() == 2


def test_health_counts_a_shared_plan_once_for_each_customer(customers, make_item):
    make_item(customers["finance-dept"], "business_impact", customers=[customers["hr"]])
    codes = Customer.objects.filter(code__in=["finance-dept", "hr"])
    rows = {h.customer.code: h for h in selectors.health_of(codes, period="2026-10")}
    assert rows["finance-dept"].open_improvements == 2
    assert rows["hr"].open_improvements == 2
