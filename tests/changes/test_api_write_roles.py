"""Every write of the changes API refuses a role that may not make it with 403 (404 for another
customer's object) whatever the body, before any validation, and changes nothing (issue 12)."""

from __future__ import annotations

import pytest

from servicebook.changes.api import ROUTES
from tests.api_writes import refusals, write_routes

CHG = {"admin", "change"}
#: route name → the demo roles that may attempt the write (the service may still refuse them)
ALLOWED = {
    "changerequest-list": CHG,
    "changerequest-detail": CHG,
    "changerequest-start-assessment": CHG,
    "changerequest-assess": CHG,
    "changerequest-submit": CHG,
    "changerequest-it-decision": CHG,
    # an internal customer co-owns its deployment schedule; the airline's contract does not
    "changerequest-window": CHG | {"internal"},
    "changerequest-schedule": CHG,
    "changerequest-implement": CHG,
    "changerequest-review": CHG,
    "customerimpact-price-impact": CHG,
    # the affected customer decides and accepts its own price (a change manager records it)
    "customerimpact-decide": CHG | {"internal", "external"},
    "customerimpact-accept-price": CHG | {"internal", "external"},
    # an internal customer adds its own tasks; the provider scripts an external one's steps
    "customertask-list": CHG | {"internal"},
    "customertask-done": CHG | {"internal", "external"},
    "trainingrecord-list": CHG,
    "schedulefeed-rotate": CHG | {"internal", "external"},
    # deliverables (decision 0023): recorded by the provider, decided by the customer's approver
    "deliverable-list": CHG | {"manager"},
    "deliverable-decide": {"internal", "external"},
}


def test_every_write_route_has_an_expectation():
    names = {route.name for route in write_routes(ROUTES)}
    assert names == set(ALLOWED)


@pytest.mark.django_db
def test_writes_refuse_other_roles_before_the_body(users, client_for):
    problems = refusals(ROUTES, ALLOWED, users, client_for, ["changes", "agreements"])
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_the_refusal_names_the_roles_needed(users, client_for):
    response = client_for(users["internal"]).post("/api/changes/", {}, format="json")
    assert response.status_code == 403
    assert "change manager" in response.json()["detail"]
    response = client_for(users["external"]).post("/api/change-tasks/", {}, format="json")
    assert response.status_code == 403
    assert "scripts your deployment steps" in response.json()["detail"]
