"""Every write of the improvement API refuses a role that may not make it with 403 (404 for an
object the user does not see) whatever the body, before any validation, and changes nothing
(issue 12: "400 before 403").

Driven from the app's router (``improvement.api.ROUTES``): every write route must have an
expectation here, so a new write action without one fails. Customer users take part in plans
through their contact (R14): they approve plans, comment on actions and mark their own actions
done; everything else is the provider's editors' (admin, service manager)."""

from __future__ import annotations

import pytest
from django.apps import apps

from servicebook.improvement.api import ROUTES
from servicebook.improvement.models import Action, Comment, PlanApproval
from tests.api_writes import ROLES, targets
from tests.api_writes import write_routes as shared_write_routes

#: bodies the refusal must not depend on: empty, and one with plausible and malformed fields
BODIES = (
    {},
    {
        "customer": "x",
        "title": "",
        "source": "nope",
        "driver": "nope",
        "reason": "",
        "note": "x",
        "contact": "x",
        "measured_value": "x",
        "improvement": "x",
        "description": "",
        "body": "",
        "period": "x",
        "meeting_on": "x",
        "minutes": "",
    },
)

EDITORS = {"admin", "manager"}
CUSTOMERS = {"internal", "external"}
#: route name → the demo roles that may attempt the write (the service may still refuse them)
ALLOWED = {
    "improvement-list": EDITORS,
    "improvement-detail": EDITORS,
    "improvement-propose": EDITORS,
    # a customer taking part approves the plan through its contact (R14)
    "improvement-approve": EDITORS | CUSTOMERS,
    "improvement-start": EDITORS,
    "improvement-complete": EDITORS,
    "improvement-verify": EDITORS,
    "improvement-drop": EDITORS,
    "improvement-participants": EDITORS,
    "improvement-propose-retention": EDITORS,
    "parity-propose": EDITORS,
    "improvementaction-list": EDITORS,
    # customers taking part comment, and mark their own actions done (R14)
    "improvementaction-done": EDITORS | CUSTOMERS,
    "improvementaction-comment": EDITORS | CUSTOMERS,
    "servicereview-list": EDITORS,
    "servicereview-held": EDITORS,
}


def write_routes():
    return shared_write_routes(ROUTES)


def row_counts() -> dict[str, int]:
    """Rows of every model of the apps a refused write could touch."""
    return {
        model._meta.label: model._default_manager.count()
        for label in ("improvement", "parties")
        for model in apps.get_app_config(label).get_models()
    }


def statuses() -> dict[int, str]:
    from servicebook.improvement.models import Improvement, ServiceReview

    return {
        **{f"i{pk}": s for pk, s in Improvement.objects.values_list("pk", "status")},
        **{f"r{pk}": s for pk, s in ServiceReview.objects.values_list("pk", "status")},
        **{f"a{pk}": d for pk, d in Action.objects.values_list("pk", "done")},
    }


def test_every_write_route_has_an_expectation():
    assert {route.name for route in write_routes()} == set(ALLOWED)


@pytest.mark.django_db
def test_writes_refuse_other_roles_with_403_whatever_the_body(users, client_for):
    problems = []
    tried = 0
    for route in write_routes():
        for role in ROLES:
            user = users[role]
            client = client_for(user)
            for label, url in targets(route, user):
                if role in ALLOWED[route.name] and label != "other":
                    continue
                for body in BODIES:
                    before, states = row_counts(), statuses()
                    response = getattr(client, route.method)(url, body, format="json")
                    tried += 1
                    if response.status_code not in (403, 404):
                        problems.append(
                            f"{route.method.upper()} {url} as {role} ({label}) with "
                            f"{body or '{}'}: {response.status_code} {response.content[:160]!r}"
                        )
                    elif (row_counts(), statuses()) != (before, states):
                        problems.append(f"{route.method.upper()} {url} as {role}: data changed")
    assert tried > 100
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_the_refusal_names_the_roles_needed(users, client_for):
    for role in ("internal", "external", "finance"):
        response = client_for(users[role]).post("/api/improvements/", {}, format="json")
        assert response.status_code == 403
        assert "Registering an improvement needs one of these roles" in response.json()["detail"]
        assert "service manager" in response.json()["detail"]


@pytest.mark.django_db
def test_a_customer_user_may_not_complete_an_action_it_does_not_own(
    users, client_for, customers, contacts, make_item
):
    """Object-level rules for customer users are asked before the body is read too."""
    from servicebook.improvement import services

    item = make_item(customers["marketing"], "business_impact")
    services.add_participant(
        actor=users["manager"], improvement=item, contact=contacts["marketing"]
    )
    action = services.add_action(
        actor=users["manager"], improvement=item, description="Pilot", owner_user=users["manager"]
    )
    client = client_for(users["internal"])
    for body in BODIES:
        response = client.post(f"/api/improvement-actions/{action.pk}/done/", body, format="json")
        assert response.status_code == 403, response.content
        assert "only its owner or the provider" in response.json()["detail"]
    action.refresh_from_db()
    assert not action.done


@pytest.mark.django_db
def test_staff_without_an_editor_role_may_not_approve_or_comment(users, client_for, items):
    item = items["launch"]
    action = item.actions.first()
    approvals, comments = PlanApproval.objects.count(), Comment.objects.count()
    for role in ("finance", "change", "senior"):
        client = client_for(users[role])
        for body in BODIES:
            url = f"/api/improvements/{item.pk}/approve/"
            assert client.post(url, body, format="json").status_code == 403
            url = f"/api/improvement-actions/{action.pk}/comment/"
            assert client.post(url, body, format="json").status_code == 403
    assert (PlanApproval.objects.count(), Comment.objects.count()) == (approvals, comments)


@pytest.mark.django_db
def test_customers_taking_part_still_comment_and_approve(
    users, client_for, customers, contacts, make_item
):
    """What is allowed stays allowed: the internal customer comments and approves its plan."""
    from servicebook.improvement import services

    item = make_item(customers["marketing"], "business_impact")
    services.add_participant(
        actor=users["manager"], improvement=item, contact=contacts["marketing"]
    )
    action = services.add_action(
        actor=users["manager"],
        improvement=item,
        description="Pilot",
        owner_contact=contacts["marketing"],
    )
    client = client_for(users["internal"])
    url = f"/api/improvement-actions/{action.pk}/comment/"
    response = client.post(url, {"body": "Works for us"}, format="json")
    assert response.status_code == 200, response.content
    if item.status == "draft":
        services.propose(actor=users["manager"], improvement=item)
    response = client.post(f"/api/improvements/{item.pk}/approve/", {}, format="json")
    assert response.status_code == 200, response.content
    assert PlanApproval.objects.filter(improvement=item, customer=customers["marketing"]).exists()
