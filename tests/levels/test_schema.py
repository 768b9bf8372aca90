"""The OpenAPI schema tells the truth about the levels API (issue 12, fuzz guard findings).

Real responses of the demo, as the admin and as each customer user, are validated against the
schema the API publishes (``/api/schema/``): an availability target's attainment has no
priority (null), an outage of a whole service no agreement (null), and the write actions answer
the objects their schema describes (not their request body, not a bare "object").
"""

from __future__ import annotations

import pytest

from servicebook.agreements.models import Agreement
from servicebook.levels.models import Attainment, Outage
from tests.agreements.schema_check import check_response, published_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return published_schema()


_check = check_response


@pytest.mark.parametrize("username", ["admin", "internal", "external"])
def test_reads_match_their_schema(schema, users, client_for, username):
    client = client_for(users[username])
    for path in ("/api/attainment/", "/api/breaches/", "/api/outages/", "/api/credits/"):
        _check(schema, path, "get", client.get(path, {"page_size": 1000}))
    for row in Attainment.objects.visible_to(users[username]).order_by("pk")[:50]:
        _check(schema, "/api/attainment/{id}/", "get", client.get(f"/api/attainment/{row.pk}/"))
    breach = Attainment.objects.visible_to(users[username]).filter(met=False).first()
    if breach is not None:
        _check(schema, "/api/breaches/{id}/", "get", client.get(f"/api/breaches/{breach.pk}/"))


def test_the_demo_has_the_nulls_the_schema_must_allow():
    """Otherwise the test above proves nothing about them."""
    assert Attainment.objects.filter(target__priority__isnull=True).exists()
    assert Outage.objects.filter(agreement__isnull=True).exists()


def test_availability_attainment_priority_is_declared_nullable(schema, users, client_for):
    row = Attainment.objects.filter(target__priority__isnull=True).first()
    response = client_for(users["admin"]).get(f"/api/attainment/{row.pk}/")
    assert response.json()["priority"] is None
    _check(schema, "/api/attainment/{id}/", "get", response)


def test_write_actions_answer_what_their_schema_says(schema, users, client_for):
    manager = client_for(users["manager"])
    agreement = Agreement.objects.get(reference="SLA-MKT-2026")
    recompute = manager.post(
        "/api/attainment/recompute/", {"agreement": agreement.pk}, format="json"
    )
    _check(schema, "/api/attainment/recompute/", "post", recompute)
    body = {
        "format": "csv",
        "agreement": agreement.reference,
        "source": "schema-test",
        "rows": [{"number": "X1", "priority": "9", "opened_at": "not a time"}],
    }
    imported = manager.post("/api/tickets/import/", body, format="json")
    _check(schema, "/api/tickets/import/", "post", imported)
    assert imported.json()["rejects"]
