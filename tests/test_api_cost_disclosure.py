"""R7: no API response to an external customer user contains a cost or margin field."""

import json

import pytest
from django.urls import reverse

LISTS = [
    "customer",
    "contact",
    "service",
    "offering",
    "agreement",
    "agreementline",
    "calendar",
    "serviceleveltarget",
    "changeclause",
    "duediligence",
    "commitment",
    "feedback",
    "objective",
    "specification",
    "jurisdictionrule",
    "changerequest",
    "customerimpact",
    "approval",
    "customertask",
    "trainingrecord",
    "schedulefeed",
    "deliverable",
    "demandrequest",
    "capacitypool",
    "strategy",
    "measure",
    "reading",
    "statement",
    "invoice",
    "payment",
    "creditnote",
    "taxrate",
    "period",
    "ticket",
    "outage",
    "attainment",
    "breach",
    "credit",
    "improvement",
    "improvementaction",
    "servicereview",
    "usageimport",
    "cloudmapping",
    "cloudcharge",
    "exchangerate",
]


def _walk_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


def _responses(client):
    for basename in LISTS:
        response = client.get(reverse(f"{basename}-list"))
        assert response.status_code == 200
        yield response.json()
        for row in response.json()["results"]:
            detail = client.get(reverse(f"{basename}-detail", args=[row["id"]]))
            assert detail.status_code == 200
            yield detail.json()
    agreement = client.get(reverse("agreement-list")).json()["results"][0]["id"]
    # errors must not leak cost either
    bad = client.post(reverse("agreement-status", args=[agreement]), {"to_status": "x"})
    yield bad.json()


def test_external_user_never_sees_cost_or_margin(users, client_for):
    client = client_for(users["external"])
    seen = 0
    for body in _responses(client):
        seen += 1
        keys = {key.lower() for key in _walk_keys(body)}
        leaked = {key for key in keys if "cost" in key or "margin" in key}
        assert not leaked, f"cost or margin field in a response to an external user: {leaked}"
        text = json.dumps(body).lower()
        assert "standard_unit_cost" not in text
    assert seen > 10


def test_internal_user_sees_cost_but_not_margin(users, client_for):
    client = client_for(users["internal"])
    agreement = client.get(reverse("agreement-list")).json()["results"][0]
    assert agreement["monthly_cost"] is not None
    assert "monthly_cost" in agreement["lines"][0]
    assert "monthly_margin" not in agreement["lines"][0]


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_finance_and_admin_see_cost_and_margin(users, client_for, role):
    body = client_for(users[role]).get(reverse("agreementline-list")).json()["results"][0]
    assert {"monthly_cost", "monthly_margin"} <= set(body)


@pytest.mark.parametrize("role", ["manager", "change", "senior"])
def test_other_staff_see_cost_but_not_margin(users, client_for, role):
    body = client_for(users[role]).get(reverse("agreementline-list")).json()["results"][0]
    assert "monthly_cost" in body and "monthly_margin" not in body


def test_schema_and_docs_are_served(users, client_for):
    client = client_for(users["manager"])
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/agreements/" in schema.json()["paths"]
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_external_users_e_invoices_carry_no_cost(users, client_for):
    """The e-invoice downloads (decision 0027) of the external user's invoices: no cost or
    margin element, attribute or text (R7)."""
    client = client_for(users["external"])
    invoices = client.get(reverse("invoice-list")).json()["results"]
    assert invoices
    for row in invoices:
        response = client.get(reverse("invoice-ubl", args=[row["id"]]))
        assert response.status_code == 200
        body = response.content.lower()
        assert b"cost" not in body and b"margin" not in body
