"""Moving a change window (R11): a new window reopens every other affected customer's approval
and must respect their notice periods; the form is offered only to who may set it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.changes import services
from servicebook.changes.models import ChangeEvent
from servicebook.core.errors import DomainError

from .conftest import approve_all, impact_of, window

pytestmark = pytest.mark.django_db


def _state(change):
    change.refresh_from_db()
    return (
        change.status,
        change.planned_start,
        sorted(change.impacts.values_list("customer__code", "decision")),
        change.approvals.count(),
    )


def test_moving_the_window_reopens_other_customers_approvals(make_change, users, contacts):
    change = approve_all(make_change(), users, contacts)
    assert change.status == "approved"
    start, end = window(days=50)
    services.set_schedule(
        actor=users["internal"], change=change, planned_start=start, planned_end=end
    )
    change.refresh_from_db()
    assert change.status == "awaiting_approval" and change.planned_start == start
    sky = impact_of(change, "skybridge")
    assert sky.decision == "pending" and sky.notified_at is not None
    assert not change.approvals.filter(customer__code="skybridge").exists()
    assert impact_of(change, "marketing").decision == "approved"  # the mover's own stays
    reopened = ChangeEvent.objects.filter(change=change, action="approval_reopened")
    assert reopened.filter(customer__code="skybridge").exists()
    assert "Marc Lefèvre" in reopened.get(customer__code="skybridge").note
    assert "SkyBridge Airlines" in services.missing_approvals(change)
    # the airline decides again, for the new window
    services.record_customer_decision(
        actor=users["external"], impact=sky, verdict="approve", note="new date fine"
    )
    assert impact_of(change, "skybridge").decision == "approved"


def test_moving_inside_another_customers_notice_is_refused(make_change, users, contacts):
    change = approve_all(make_change(), users, contacts)
    before = _state(change)
    start, end = window(days=3)
    with pytest.raises(DomainError) as error:
        services.set_schedule(
            actor=users["internal"], change=change, planned_start=start, planned_end=end
        )
    assert error.value.code == "notice_period"
    assert "SkyBridge Airlines must get 15 working days' notice" in error.value.message
    assert _state(change) == before


def test_moving_inside_notice_through_the_api_is_a_400(make_change, users, contacts, client_for):
    change = approve_all(make_change(), users, contacts)
    before = _state(change)
    start, end = window(days=3)
    response = client_for(users["internal"]).post(
        f"/api/changes/{change.pk}/window/",
        {"planned_start": start.isoformat(), "planned_end": end.isoformat()},
        format="json",
    )
    assert response.status_code == 400 and "working days' notice" in response.json()["detail"]
    assert _state(change) == before


def test_the_provider_moving_a_scheduled_change_asks_again(make_change, users, contacts):
    change = approve_all(make_change(), users, contacts)
    services.schedule_change(actor=users["change"], change=change)
    start, end = window(days=60)
    services.set_schedule(
        actor=users["change"], change=change, planned_start=start, planned_end=end
    )
    change.refresh_from_db()
    assert change.status == "awaiting_approval"
    assert impact_of(change, "marketing").decision == "pending"  # IT moved it: everyone again
    assert impact_of(change, "skybridge").decision == "pending"


def test_the_window_form_is_offered_only_to_who_may_set_it(make_change, users, web_for):
    change = make_change()
    detail = reverse("changes:detail", args=[change.pk])
    form = reverse("changes:window", args=[change.pk])
    external = web_for(users["external"])
    assert b'data-testid="set-window"' not in external.get(detail).content
    refused = external.get(form)
    assert refused.status_code == 403
    internal = web_for(users["internal"])
    assert b'data-testid="set-window"' in internal.get(detail).content
    assert internal.get(form).status_code == 200


def test_no_window_form_for_a_co_owner_once_scheduled(make_change, users, contacts, web_for):
    change = approve_all(make_change(), users, contacts)
    services.schedule_change(actor=users["change"], change=change)
    internal = web_for(users["internal"])
    detail = internal.get(reverse("changes:detail", args=[change.pk]))
    assert b'data-testid="set-window"' not in detail.content
    assert internal.get(reverse("changes:window", args=[change.pk])).status_code == 403
