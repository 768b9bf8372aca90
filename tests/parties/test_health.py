"""Relationship health: the in-difficulty flag with its history, and complaints (R14, R15)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicebook.catalog.models import Service
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.parties import services
from servicebook.parties.models import Customer


def test_flag_needs_a_reason_and_keeps_history(users):
    retail = Customer.objects.get(code="meridian")
    with pytest.raises(ValidationError, match="say why"):
        services.flag_in_difficulty(actor=users["manager"], customer=retail, reason=" ")
    with pytest.raises(PermissionDenied):
        services.flag_in_difficulty(actor=users["external"], customer=retail, reason="x")
    services.flag_in_difficulty(
        actor=users["manager"], customer=retail, reason="Two credit months; renewal at risk."
    )
    with pytest.raises(DomainError, match="already flagged"):
        services.flag_in_difficulty(actor=users["manager"], customer=retail, reason="again")
    services.clear_in_difficulty(actor=users["manager"], customer=retail, note="Renewed.")
    retail.refresh_from_db()
    assert not retail.in_difficulty
    steps = list(retail.events.filter(action__startswith="in_difficulty").values_list("to_state"))
    assert steps == [("in_difficulty",), ("healthy",)]


def test_flag_over_the_api_and_hidden_from_the_customer(users, client_for):
    airline = Customer.objects.get(code="skybridge")
    url = reverse("customer-difficulty", args=[airline.pk])
    assert client_for(users["external"]).post(url, {"in_difficulty": True}).status_code == 403
    response = client_for(users["manager"]).post(
        url, {"in_difficulty": True, "reason": "Unhappy with releases"}, format="json"
    )
    assert response.status_code == 200 and response.json()["in_difficulty"] is True
    own = client_for(users["external"]).get(reverse("customer-detail", args=[airline.pk])).json()
    assert "in_difficulty" not in own and "difficulty_reason" not in own


def test_complaints_are_open_until_resolved(users):
    external = users["external"]
    complaint = services.submit_feedback(
        actor=external,
        customer=external.customer,
        service=Service.objects.get(code="cloud-hosting"),
        period="2026-11",
        topic="complaint",
        comment="Storage latency doubled since Tuesday.",
    )
    assert complaint.resolved_at is None
    services.resolve_complaint(actor=users["manager"], complaint=complaint, note="Disk replaced.")
    with pytest.raises(DomainError, match="only an open complaint"):
        services.resolve_complaint(actor=users["manager"], complaint=complaint)
