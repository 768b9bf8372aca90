"""core.workflow: state machines declared once, refused one way, audited one way."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse

import servicebook
from servicebook.changes.models import ChangeEvent, ChangeRequest, ChangeStatus
from servicebook.core.errors import DomainError
from servicebook.core.models import EventModel
from servicebook.core.services import check_transition
from servicebook.core.workflow import Workflow, registered, workflow_for
from servicebook.improvement.models import ReviewStatus, ServiceReview, ServiceReviewEvent
from servicebook.improvement.workflows import SERVICE_REVIEW

S = ChangeStatus
TABLE = {
    S.DRAFT: {S.ASSESSMENT},
    S.ASSESSMENT: {S.AWAITING_APPROVAL},
    S.AWAITING_APPROVAL: {S.APPROVED, S.REJECTED},
    S.APPROVED: {S.SCHEDULED},
    S.SCHEDULED: {S.IMPLEMENTED},
    S.IMPLEMENTED: {S.REVIEWED},
    S.REJECTED: set(),
    S.REVIEWED: set(),
}

#: State machines whose apps still use ``core.services.check_transition`` or their own code,
#: by model name: they move onto core.workflow later in issue 13. The list only shrinks.
NOT_YET_DECLARED: dict[str, str] = {}


def declare(**changes) -> Workflow:
    """A workflow of ChangeRequest that is not registered (the constructor never registers)."""
    arguments = dict(
        what="change request",
        model=ChangeRequest,
        transitions=TABLE,
        initial={S.DRAFT},
        event_model=ChangeEvent,
        subject_field="change",
        name=lambda change: change.reference,
    )
    return Workflow(**{**arguments, **changes})


def change(status=S.DRAFT, change_type="normal") -> ChangeRequest:
    return ChangeRequest(reference="RFC-T-1", title="t", status=status, change_type=change_type)


# --- the declaration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"transitions": {k: v for k, v in TABLE.items() if k != S.REVIEWED}}, "no transitions"),
        ({"transitions": {**TABLE, "closed": set()}}, "not choices"),
        ({"transitions": {**TABLE, S.REVIEWED: {"closed"}}}, "unknown states"),
        ({"initial": {"new"}}, "initial states"),
        ({"guards": {(S.DRAFT, S.REVIEWED): (bool, "never")}}, "no declared transition"),
        ({"subject_field": "request"}, "has no field 'request'"),
        ({"state_field": "risk"}, "no transitions declared"),
    ],
)
def test_a_declaration_that_does_not_match_its_model_is_refused(changes, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        declare(**changes)


def test_reachable_and_final_states():
    workflow = declare()
    assert workflow.reachable() == set(S.values)
    assert workflow.final_states() == {S.REJECTED, S.REVIEWED}
    assert declare(initial={S.APPROVED}).reachable() == {
        S.APPROVED,
        S.SCHEDULED,
        S.IMPLEMENTED,
        S.REVIEWED,
    }
    assert workflow.next_states(change(S.AWAITING_APPROVAL)) == [S.APPROVED, S.REJECTED]


# --- the one refusal ----------------------------------------------------------------------------


def test_a_refused_step_names_the_object_its_state_and_the_refused_one():
    with pytest.raises(DomainError) as refused:
        declare().check(change(S.AWAITING_APPROVAL), S.IMPLEMENTED)
    error = refused.value
    assert error.message == (
        "the change request RFC-T-1 is awaiting approval and cannot become implemented"
    )
    assert error.as_dict() == {
        "detail": error.message,
        "code": "invalid_transition",
        "field": "to_status",
    }


def test_an_unknown_state_is_a_field_error():
    with pytest.raises(ValidationError) as refused:
        declare().check(change(), "closed")
    assert refused.value.message_dict == {"to_status": ["unknown status 'closed'"]}


def test_a_guard_refuses_the_same_way_and_says_why():
    workflow = declare(
        transitions={**TABLE, S.AWAITING_APPROVAL: {S.APPROVED, S.REJECTED, S.SCHEDULED}},
        guards={
            (S.AWAITING_APPROVAL, S.SCHEDULED): (
                lambda c: c.change_type == "emergency",
                "only an emergency change",
            )
        },
    )
    workflow.check(change(S.AWAITING_APPROVAL, "emergency"), S.SCHEDULED)
    assert workflow.allows(change(S.AWAITING_APPROVAL, "emergency"), S.SCHEDULED)
    refusal = workflow.refusal(change(S.AWAITING_APPROVAL), S.SCHEDULED)
    assert refusal.code == "invalid_transition" and refusal.field == "to_status"
    assert refusal.message.endswith("cannot become scheduled: only an emergency change")
    assert not workflow.allows(change(S.AWAITING_APPROVAL), "closed")


def test_an_edit_refused_in_a_state_names_the_state():
    workflow = declare()
    workflow.require(change(S.DRAFT), {S.DRAFT, S.ASSESSMENT}, doing="be edited")
    with pytest.raises(DomainError) as refused:
        workflow.require(change(S.REVIEWED), {S.DRAFT, S.ASSESSMENT}, doing="be edited")
    assert refused.value.message == "the change request RFC-T-1 is reviewed: cannot be edited"
    assert (refused.value.code, refused.value.field) == ("invalid_transition", "status")


def test_check_transition_is_the_same_refusal_for_plain_tables():
    table = {"prospect": {"active"}, "active": {"suspended"}, "suspended": set()}
    check_transition("customer", "prospect", "active", table)
    with pytest.raises(DomainError) as refused:
        check_transition("customer", "suspended", "prospect", table)
    assert refused.value.as_dict() == {
        "detail": "the customer is suspended and cannot become prospect",
        "code": "invalid_transition",
        "field": "to_status",
    }
    with pytest.raises(ValidationError, match="unknown status"):
        check_transition("customer", "active", "gone", table)


# --- the step and its event row -----------------------------------------------------------------


@pytest.fixture
def review(db, users):
    from servicebook.parties.models import Customer

    customer = Customer.objects.order_by("pk").first()
    return ServiceReview.objects.create(customer=customer, period="2031-01")


def test_a_step_is_validated_saved_and_recorded(review, users):
    review.meeting_on, review.minutes = dt.date(2031, 2, 3), "Agreed."
    event = SERVICE_REVIEW.move(
        review, ReviewStatus.HELD, actor=users["manager"], action="held", note="minutes", reason="x"
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.HELD
    assert isinstance(event, ServiceReviewEvent) and event.review == review
    assert (event.actor, event.action, event.from_state, event.to_state) == (
        users["manager"],
        "held",
        "prepared",
        "held",
    )
    assert (event.reason, event.note) == ("x", "minutes") and event.at is not None


def test_a_refused_or_invalid_step_changes_nothing(review, users):
    with pytest.raises(ValidationError, match="meeting date"):  # held needs its meeting date
        SERVICE_REVIEW.move(review, ReviewStatus.HELD, actor=users["manager"], action="held")
    assert review.status == ReviewStatus.PREPARED  # in memory too
    review.refresh_from_db()
    assert review.status == ReviewStatus.PREPARED and not review.events.exists()
    review.status = ReviewStatus.HELD
    with pytest.raises(DomainError, match="is held and cannot become prepared"):
        SERVICE_REVIEW.move(review, ReviewStatus.PREPARED, actor=None)
    assert not review.events.exists()


def test_record_cuts_the_reason_to_its_column(review):
    event = SERVICE_REVIEW.record(review, None, "noted", reason="r" * 60)
    assert event.reason == "r" * 40 and event.actor is None and event.from_state == ""


# --- every state machine is declared through the engine -----------------------------------------


def test_the_registry_holds_each_machine_once_and_well_formed():
    labels = [workflow.label for workflow in registered()]
    assert len(labels) == len(set(labels))
    assert {
        "changes.changerequest",
        "demand.demandrequest",
        "improvement.improvement",
        "improvement.servicereview",
    } <= set(labels)
    for workflow in registered():
        choices = set(workflow.labels)
        assert set(workflow.transitions) == choices, workflow.label
        assert workflow.reachable() == choices, f"{workflow.label}: unreachable states"
        assert workflow.final_states(), f"{workflow.label}: no final state"
        assert workflow_for(workflow.model) is workflow
        assert issubclass(workflow.event_model, EventModel)


def _audited_state_machines():
    """Models with a status field of choices whose history an EventModel records."""
    audited = {
        field.related_model
        for model in apps.get_models()
        if issubclass(model, EventModel)
        for field in model._meta.get_fields()
        if field.many_to_one and field.name != "actor"
    }
    for model in apps.get_models():
        fields = {f.name: f for f in model._meta.get_fields() if getattr(f, "choices", None)}
        if model in audited and "status" in fields:
            yield model


def test_every_audited_state_machine_is_declared_through_the_engine():
    declared = {workflow.model for workflow in registered()}
    machines = list(_audited_state_machines())
    missing = [
        m._meta.label for m in machines if m not in declared and m.__name__ not in NOT_YET_DECLARED
    ]
    assert not missing, f"declare these as a core.workflow.Workflow: {missing}"
    names = {m.__name__ for m in machines}
    stale = [name for name in NOT_YET_DECLARED if name not in names]
    now_declared = [m.__name__ for m in declared if m.__name__ in NOT_YET_DECLARED]
    assert not stale and not now_declared, "keep NOT_YET_DECLARED to the machines still waiting"
    for app in ("changes", "demand", "improvement"):
        for model in apps.get_app_config(app).get_models():
            if "status" in {f.name for f in model._meta.get_fields()}:
                assert model in declared, model._meta.label


def test_the_refusal_is_written_once():
    """No module builds its own transition refusal: the code appears in core.workflow only."""
    root = Path(servicebook.__file__).parent
    pattern = re.compile(r"""["'](invalid_transition|bad_transition)["']""")
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and pattern.search(path.read_text())
    )
    assert writers == ["core/workflow.py"]


# --- the API answers the same refusal for every machine -----------------------------------------


def test_the_api_refuses_a_step_the_same_way_in_every_app(users, client_for):
    from servicebook.catalog.models import Service
    from servicebook.changes import services as changes
    from servicebook.demand.models import DemandRequest
    from servicebook.improvement import services as improvement
    from servicebook.parties.models import Customer

    draft = changes.create_change(actor=None, title="t", services=[Service.objects.first()])
    item = improvement.create_improvement(
        actor=None,
        customer=Customer.objects.get(code="hr"),
        title="t",
        source="customer_request",
        status="draft",
    )
    decided = DemandRequest.objects.filter(status__in=["approved", "rejected"]).first()
    steps = [
        (users["change"], "changerequest-implement", draft.pk, "cannot become implemented"),
        (users["manager"], "improvement-start", item.pk, "cannot become in progress"),
        (users["manager"], "demandrequest-reject", decided.pk, "cannot become rejected"),
    ]
    for user, route, pk, says in steps:
        response = client_for(user).post(reverse(route, args=[pk]), {}, format="json")
        assert response.status_code == 400, response.content
        body = response.json()
        assert (body["code"], body["field"]) == ("invalid_transition", "to_status"), route
        assert says in body["detail"], body
