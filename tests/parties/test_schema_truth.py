"""The customers' and commitments' API answers are what the OpenAPI schema declares (issue 12,
fuzz guard: a blank status reason outside its enum, the provider's assessment declared required
though customer users never receive it, a breach recorded by nobody, a list declared an object)."""

from __future__ import annotations

import pytest

from tests.parties.schema_truth import response_schema, violations

ROLES = ("admin", "manager", "finance", "internal", "external")
PATHS = ("/api/customers/", "/api/commitments/", "/api/commitments/funding_report/")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PATHS)
def test_answers_match_their_schema(users, client_for, role, path):
    response = client_for(users[role]).get(path)
    assert response.status_code == 200
    assert violations(response.json(), path) == []


def test_a_customer_without_a_status_reason_answers_blank(users, client_for):
    rows = client_for(users["admin"]).get("/api/customers/").json()["results"]
    assert any(row["status_reason"] == "" for row in rows)
    assert violations({"count": 1, "results": rows[:1]}, "/api/customers/") == []


def test_the_providers_assessment_is_left_out_for_customers_and_not_required(users, client_for):
    row = client_for(users["external"]).get("/api/customers/").json()["results"][0]
    assert "difficulty_reason" not in row and "in_difficulty" not in row
    component = response_schema("/api/customers/")
    assert component  # the page's rows are Customer objects
    assert violations({"count": 1, "results": [row]}, "/api/customers/") == []


def test_the_funding_report_is_a_list(users, client_for):
    data = client_for(users["manager"]).get("/api/commitments/funding_report/").json()
    assert isinstance(data, list) and data
    assert response_schema("/api/commitments/funding_report/")["type"] == "array"


def test_a_detected_breach_has_no_recorder(users, client_for):
    data = client_for(users["admin"]).get("/api/commitments/").json()["results"]
    breaches = [b for c in data for b in c["breaches"]]
    assert any(b["recorded_by"] is None for b in breaches)
    assert violations({"count": len(data), "results": data}, "/api/commitments/") == []


@pytest.mark.parametrize("role", ROLES)
def test_a_customers_history_is_a_list_matching_its_schema(users, client_for, role):
    client = client_for(users[role])
    for row in client.get("/api/customers/").json()["results"]:
        response = client.get(f"/api/customers/{row['id']}/events/")
        assert response.status_code == 200 and isinstance(response.json(), list)
        assert violations(response.json(), "/api/customers/{id}/events/") == []
