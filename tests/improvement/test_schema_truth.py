"""The improvement API answers what its schema declares (issue 12, fuzz guard: an objective's
title null though declared a string, the plan's detail declared required though a customer not
taking part receives the expected results only, retention proposals a list declared an object)."""

from __future__ import annotations

import pytest

from tests.parties.schema_truth import response_schema, violations

ROLES = ("admin", "manager", "finance", "internal", "external")


@pytest.mark.parametrize("role", ROLES)
def test_the_register_matches_its_schema(users, client_for, role):
    client = client_for(users[role])
    response = client.get("/api/improvements/")
    assert response.status_code == 200
    assert violations(response.json(), "/api/improvements/") == []
    for row in response.json()["results"]:
        detail = client.get(f"/api/improvements/{row['id']}/").json()
        assert violations(detail, "/api/improvements/{id}/") == []


def test_a_customer_seeing_results_only_gets_no_plan_detail(users, client_for):
    rows = client_for(users["external"]).get("/api/improvements/").json()["results"]
    results_only = [row for row in rows if "actions" not in row]
    assert results_only  # the airline sees the expected results of some plans only (R14)
    assert violations({"count": 1, "results": results_only}, "/api/improvements/") == []


@pytest.mark.parametrize("body", [{}, {"period": "2026-04"}])
def test_retention_proposals_are_a_list(users, client_for, body):
    response = client_for(users["manager"]).post(
        "/api/improvements/propose-retention/", body, format="json"
    )
    assert response.status_code in (200, 201)
    assert isinstance(response.json(), list)
    assert (
        response_schema("/api/improvements/propose-retention/", "post", str(response.status_code))[
            "type"
        ]
        == "array"
    )
    assert (
        violations(
            response.json(),
            "/api/improvements/propose-retention/",
            "post",
            str(response.status_code),
        )
        == []
    )


@pytest.mark.parametrize("role", ROLES)
def test_histories_health_packs_and_dashboard_match_their_schema(users, client_for, items, role):
    """Routes answering plain data (lists, pages, one object) declare what they answer."""
    client = client_for(users[role])
    problems = []
    for item in items.values():
        url = f"/api/improvements/{item.pk}/history/"
        response = client.get(url)
        if response.status_code == 200:
            problems += [
                url + v for v in violations(response.json(), "/api/improvements/{id}/history/")
            ]
    pages = {
        "/api/relationship-health/": "/api/relationship-health/{id}/",
        "/api/review-packs/": "/api/review-packs/{id}/",
    }
    for page, detail in pages.items():
        response = client.get(page)
        if response.status_code != 200:
            assert response.status_code == 403 and role in ("internal", "external")
            continue
        problems += [page + v for v in violations(response.json(), page)]
        for row in response.json()["results"]:
            url = detail.replace("{id}", str(row["id"]))
            problems += [url + v for v in violations(client.get(url).json(), detail)]
    response = client.get("/api/improvement-dashboard/")
    if response.status_code == 200:
        problems += violations(response.json(), "/api/improvement-dashboard/")
    assert not problems, "\n".join(problems)
