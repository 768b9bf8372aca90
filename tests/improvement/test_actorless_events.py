"""Issue 12: events written by the system (no actor) answered 500 on the improvement detail and
the relationship-health pages. They show as "system" to staff and "Provider" to customers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.improvement.models import ImprovementEvent
from servicebook.parties.models import CustomerEvent


@pytest.mark.parametrize("role", ["admin", "manager", "internal"])
def test_improvement_detail_with_an_event_without_actor(users, web_for, items, role):
    item = items["launch"]  # Marketing's item: the internal user's own customer
    ImprovementEvent.objects.create(
        improvement=item, actor=None, action="reminder", note="sent by the scheduler"
    )
    response = web_for(users[role]).get(reverse("improvement:detail", args=[item.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "sent by the scheduler" in text
    assert ("Provider · reminder" if role == "internal" else "system · reminder") in text


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_health_detail_with_a_difficulty_flag_without_actor(users, web_for, customers, role):
    customer = customers["pacific"]
    CustomerEvent.objects.create(
        customer=customer,
        actor=None,
        action="in_difficulty",
        to_state="in_difficulty",
        note="flagged by the nightly rule",
    )
    response = web_for(users[role]).get(reverse("improvement:health-detail", args=[customer.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "system · flagged in difficulty — flagged by the nightly rule" in text


def test_demand_history_with_an_event_without_actor(users, web_for):
    from servicebook.demand.models import DemandEvent, DemandRequest

    demand = DemandRequest.objects.get(title="Customer data platform")  # Marketing's
    DemandEvent.objects.create(demand=demand, actor=None, action="reminder", note="nudged")
    for role, label in (("manager", "system"), ("internal", "Provider")):
        response = web_for(users[role]).get(reverse("demand:detail", args=[demand.pk]))
        assert response.status_code == 200
        assert f"{label} · reminder" in response.content.decode()
