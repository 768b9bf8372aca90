"""One audience-aware way to show events: a customer user sees its own people by name, the
provider's people as "Provider", and nothing of other customers (page and API)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.changes.models import ChangeEvent, ChangeRequest
from servicebook.core.audience import OTHER_CUSTOMER, PROVIDER, shown_event

pytestmark = pytest.mark.django_db

MARKETING_NOTE = "Marketing prefers a late evening window"


def _storage():
    return ChangeRequest.objects.get(title__startswith="Storage tier upgrade")


def test_the_demo_history_holds_another_customers_step():
    event = ChangeEvent.objects.get(change=_storage(), action="window_set")
    assert event.actor.username == "internal" and MARKETING_NOTE in event.note


def test_external_page_shows_no_other_customers_name_or_note(users, web_for):
    change = _storage()
    page = web_for(users["external"]).get(reverse("changes:detail", args=[change.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    history = text[text.index('data-testid="history"') :]
    assert MARKETING_NOTE not in text
    assert "Clara Dupont" not in text and "internal" not in history
    assert "Chen Change" not in history and PROVIDER in history  # staff are "Provider"
    assert OTHER_CUSTOMER in history
    assert "Marc Lefèvre" in history  # its own people by name


def test_external_api_history_shows_no_other_customers_login_or_note(users, client_for):
    change = _storage()
    response = client_for(users["external"]).get(f"/api/changes/{change.pk}/history/")
    assert response.status_code == 200
    rows = response.json()
    actors = {row["actor"] for row in rows}
    assert "internal" not in actors and "Clara Dupont" not in actors
    assert "change" not in actors and "Chen Change" not in actors
    assert not any(MARKETING_NOTE in row["note"] for row in rows)
    window = next(row for row in rows if row["action"] == "window_set")
    assert window["actor"] == OTHER_CUSTOMER and window["note"] == ""
    assert PROVIDER in actors and "Marc Lefèvre" in actors


def test_external_api_approvals_show_the_provider_not_its_people(users, client_for):
    change = _storage()
    response = client_for(users["external"]).get(f"/api/changes/{change.pk}/")
    names = {a["actor_name"] for a in response.json()["approvals"]}
    assert "change" not in names and "Chen Change" not in names


def test_staff_see_every_name_and_note(users, client_for, web_for):
    change = _storage()
    rows = client_for(users["change"]).get(f"/api/changes/{change.pk}/history/").json()
    window = next(row for row in rows if row["action"] == "window_set")
    assert window["actor"] == "Clara Dupont" and MARKETING_NOTE in window["note"]
    page = web_for(users["change"]).get(reverse("changes:detail", args=[change.pk]))
    assert MARKETING_NOTE in page.content.decode()


def test_the_internal_user_sees_its_own_note(users):
    event = ChangeEvent.objects.get(change=_storage(), action="window_set")
    shown = shown_event(event, users["internal"])
    assert shown.actor == "Clara Dupont" and MARKETING_NOTE in shown.note
    other = shown_event(event, users["external"])
    assert other.actor == OTHER_CUSTOMER and other.note == "" and other.withheld


def test_agreement_history_shows_the_provider_not_its_people(users, web_for):
    from servicebook.agreements.models import Agreement, AgreementEvent

    airline = Agreement.objects.get(reference="CT-SKY-2026", status="active")
    AgreementEvent.objects.create(
        agreement=airline, actor=users["manager"], action="updated", note="terms reviewed"
    )
    page = web_for(users["external"]).get(reverse("agreements:detail", args=[airline.pk]))
    text = page.content.decode()
    assert page.status_code == 200  # the agreement's history is for provider staff only
    assert "terms reviewed" not in text and "Maya Manager" not in text
    staff = web_for(users["manager"]).get(reverse("agreements:detail", args=[airline.pk]))
    assert "Maya Manager · updated — terms reviewed" in staff.content.decode()


def test_every_event_history_api_follows_the_same_rule(users, client_for):
    """Customer histories (parties) use core.audience too: staff names never reach customers."""
    from servicebook.parties.models import CustomerEvent

    airline = users["external"].customer
    CustomerEvent.objects.create(
        customer=airline, actor=users["manager"], action="reviewed", note="annual review"
    )
    rows = client_for(users["external"]).get(f"/api/customers/{airline.pk}/events/").json()
    row = next(r for r in rows if r["action"] == "reviewed")
    assert row["actor"] == PROVIDER and row["note"] == "annual review"
    staff = client_for(users["manager"]).get(f"/api/customers/{airline.pk}/events/").json()
    assert next(r for r in staff if r["action"] == "reviewed")["actor"] == "Maya Manager"
