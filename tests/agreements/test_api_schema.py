"""The agreements API answers what its schema says, and every staff role sees the blockers.

Issue 12: the agreement actions (status, sign, consideration, outcomes, acknowledge, amend)
answer the agreement, not their request body, and the schema says so. Margins are now for
finance and the admin only; an agreement's activation blockers (which may name a line's cost)
stay visible to every provider staff role, never to a customer user.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from servicebook.agreements import services
from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Offering
from servicebook.parties.models import Contact, Customer
from tests.agreements.schema_check import check_response, published_schema

pytestmark = pytest.mark.django_db

ACTIONS = ["status", "sign", "consideration", "outcomes", "acknowledge", "amend"]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return published_schema()


def _draft(users):
    agreement = services.create_agreement(
        actor=users["manager"],
        customer=Customer.objects.get(code="skybridge"),
        reference="NEW-SCHEMA",
        title="New",
        start_date=dt.date(2026, 1, 1),
    )
    services.add_line(
        actor=users["manager"],
        agreement=agreement,
        offering=Offering.objects.get(code="consulting-hour"),
        quantity=D(10),
    )
    return agreement


@pytest.mark.parametrize("name", ACTIONS)
def test_every_action_is_declared_to_answer_the_agreement(schema, name):
    declared = schema["paths"][f"/api/agreements/{{id}}/{name}/"]["post"]["responses"]["200"]
    ref = declared["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Agreement"


def test_actions_answer_what_the_schema_says(schema, users, client_for):
    manager = client_for(users["manager"])
    agreement = _draft(users)
    path = "/api/agreements/{id}/"
    outcome = manager.post(
        f"/api/agreements/{agreement.pk}/outcomes/",
        {"description": "Fewer delays", "measure": "on-time departures"},
        format="json",
    )
    check_response(schema, path + "outcomes/", "post", outcome)
    signer = Contact.objects.get(name="Marc Lefèvre")
    signed = manager.post(
        f"/api/agreements/{agreement.pk}/sign/", {"contact": signer.pk}, format="json"
    )
    check_response(schema, path + "sign/", "post", signed)
    moved = manager.post(
        f"/api/agreements/{agreement.pk}/status/", {"to_status": "negotiation"}, format="json"
    )
    check_response(schema, path + "status/", "post", moved)
    assert moved.json()["status"] == "negotiation"
    sky = Agreement.objects.get(reference="CT-SKY-2026")
    amended = client_for(users["admin"]).post(f"/api/agreements/{sky.pk}/amend/", format="json")
    check_response(schema, path + "amend/", "post", amended)
    assert amended.json()["version"] == 2


@pytest.mark.parametrize("username", ["manager", "change", "senior", "finance", "admin"])
def test_every_staff_role_sees_the_activation_blockers(users, client_for, username):
    agreement = _draft(users)
    body = client_for(users[username]).get(f"/api/agreements/{agreement.pk}/").json()
    assert any("not signed" in blocker for blocker in body["activation_blockers"])


@pytest.mark.parametrize("username", ["internal", "external"])
def test_customer_users_never_see_the_activation_blockers(users, client_for, username):
    rows = client_for(users[username]).get("/api/agreements/").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert rows and not any("activation_blockers" in row for row in rows)
