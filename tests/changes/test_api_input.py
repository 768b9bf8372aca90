"""Malformed input to the change API answers 400 with field errors, never 500; the role is
checked first (403 for customers)."""

from __future__ import annotations

import pytest

from servicebook.changes.models import ChangeRequest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [{"title": "x"}, {"title": "x", "services": []}, {"services": []}],
)
def test_a_change_without_services_is_a_400_with_field_errors(users, client_for, body):
    before = ChangeRequest.objects.count()
    response = client_for(users["change"]).post("/api/changes/", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert "services" in errors or "title" in errors
    assert ChangeRequest.objects.count() == before


def test_no_services_names_the_field(users, client_for):
    response = client_for(users["change"]).post("/api/changes/", {"title": "x"}, format="json")
    assert response.json() == {"services": ["name at least one service the change touches"]}


def test_customers_are_refused_before_validation(users, client_for):
    before = ChangeRequest.objects.count()
    response = client_for(users["external"]).post("/api/changes/", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert ChangeRequest.objects.count() == before
