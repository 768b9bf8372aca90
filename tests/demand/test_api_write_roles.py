"""Every write of the demand API refuses a role that may not make it with 403 (404 for another
customer's object) whatever the body, before any validation, and changes nothing (issue 12)."""

from __future__ import annotations

import pytest

from servicebook.demand.api import ROUTES
from tests.api_writes import refusals, write_routes

MGR = {"admin", "manager"}
#: route name → the demo roles that may attempt the write (the service may still refuse them)
ALLOWED = {
    # a customer's own users ask for a service and choose an option
    "demandrequest-list": MGR | {"internal", "external"},
    "demandrequest-choose": MGR | {"internal", "external"},
    "demandrequest-business-case": MGR,
    "demandrequest-alternatives": MGR,
    "demandrequest-external-check": MGR,
    "demandrequest-capacity-needs": MGR,
    "demandrequest-approve": MGR,
    "demandrequest-reject": MGR,
    # R9: naming the objectives a request serves, refusing one against them
    "demandrequest-objectives": MGR,
    "demandrequest-refuse": MGR,
    # senior management only, never the IT admin (R18)
    "demandrequest-justify": {"senior"},
    "capacitypool-list": MGR,
}


def test_every_write_route_has_an_expectation():
    names = {route.name for route in write_routes(ROUTES)}
    assert names == set(ALLOWED)


@pytest.mark.django_db
def test_writes_refuse_other_roles_before_the_body(users, client_for):
    problems = refusals(ROUTES, ALLOWED, users, client_for, ["demand"])
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_capacity_pool_refusal_names_the_roles(users, client_for):
    for role in ("internal", "external", "finance", "change"):
        response = client_for(users[role]).post("/api/capacity-pools/", {}, format="json")
        assert response.status_code == 403, role
        assert "service manager" in response.json()["detail"]
