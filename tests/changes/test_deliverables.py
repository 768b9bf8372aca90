"""Deliverables (R23, decision 0023): accepted by the customer's authorized contact with who and
when; a rejection keeps it open; anybody else is refused and another customer sees nothing."""

import pytest
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.changes.deliverables import services
from servicebook.changes.deliverables.models import Deliverable, DeliverableEvent
from servicebook.changes.models import ChangeRequest
from servicebook.core.errors import DomainError, PermissionDenied

DECISIONS = {"action__in": ("accept", "reject")}


def _open():
    return Deliverable.objects.get(status="open", agreement__reference="CT-SKY-2026")


def test_the_demo_has_an_accepted_change_deliverable_and_an_open_one(db):
    accepted = Deliverable.objects.get(status="accepted")
    assert accepted.change.title == "Storage tier upgrade to NVMe"
    assert accepted.accepted_by.name == "Marc Lefèvre" and accepted.accepted_at is not None
    still_open = _open()
    rejection = still_open.events.get(**DECISIONS)
    assert rejection.action == "reject" and "summer peak" in rejection.note
    assert rejection.contact.name == "Marc Lefèvre"


def test_the_authorized_contact_accepts_from_the_agreement_page(users, web_for):
    deliverable = _open()
    web = web_for(users["external"])
    page = web.get(reverse("agreements:detail", args=[deliverable.agreement_id])).content.decode()
    assert 'data-testid="deliverables"' in page and 'value="accept"' in page
    assert "1 of 2 accepted" in page
    response = web.post(
        reverse("changes:deliverable-decide", args=[deliverable.pk]), {"verdict": "accept"}
    )
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.status == "accepted"
    assert deliverable.accepted_by == users["external"].contact
    assert deliverable.accepted_at is not None
    assert deliverable.events.filter(action="accept", actor=users["external"]).exists()
    page = web.get(reverse("agreements:detail", args=[deliverable.agreement_id])).content.decode()
    assert "2 of 2 accepted · fulfilled" in page
    with pytest.raises(DomainError, match="was accepted"):
        services.decide_deliverable(
            actor=users["external"], deliverable=deliverable, verdict="reject", reason="x"
        )


def test_a_rejection_needs_a_reason_and_keeps_it_open(users):
    deliverable = _open()
    with pytest.raises(Exception, match="say why"):
        services.decide_deliverable(
            actor=users["external"], deliverable=deliverable, verdict="reject"
        )
    services.decide_deliverable(
        actor=users["external"], deliverable=deliverable, verdict="reject", reason="Still missing"
    )
    deliverable.refresh_from_db()
    assert deliverable.status == "open" and deliverable.accepted_at is None
    assert deliverable.events.filter(**DECISIONS).count() == 2


@pytest.mark.parametrize("who", ["external-requester", "manager", "change"])
def test_only_the_authorized_contact_decides(users, web_for, client_for, who):
    deliverable = _open()
    with pytest.raises(PermissionDenied):
        services.decide_deliverable(actor=users[who], deliverable=deliverable, verdict="accept")
    url = reverse("changes:deliverable-decide", args=[deliverable.pk])
    assert web_for(users[who]).post(url, {"verdict": "accept"}).status_code == 403
    api = client_for(users[who]).post(reverse("deliverable-decide", args=[deliverable.pk]), {})
    assert api.status_code == 403
    deliverable.refresh_from_db()
    assert deliverable.status == "open" and deliverable.events.filter(**DECISIONS).count() == 1


def test_another_customer_cannot_see_or_decide(users, web_for, client_for):
    deliverable = _open()
    internal = users["internal"]  # Clara: an approver, of Marketing
    with pytest.raises(PermissionDenied):
        services.decide_deliverable(actor=internal, deliverable=deliverable, verdict="accept")
    url = reverse("changes:deliverable-decide", args=[deliverable.pk])
    assert web_for(internal).post(url, {"verdict": "accept"}).status_code == 404
    client = client_for(internal)
    assert client.get(reverse("deliverable-list")).json()["count"] == 0
    assert client.get(reverse("deliverable-detail", args=[deliverable.pk])).status_code == 404
    decide = client.post(
        reverse("deliverable-decide", args=[deliverable.pk]), {"verdict": "accept"}
    )
    assert decide.status_code == 404
    deliverable.refresh_from_db()
    assert deliverable.status == "open"


def test_the_api_records_and_decides(users, client_for):
    sky = Agreement.objects.get(reference="CT-SKY-2026", status="active")
    created = client_for(users["manager"]).post(
        reverse("deliverable-list"),
        {"agreement": sky.pk, "title": "Booking platform runbook"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert client_for(users["external"]).post(reverse("deliverable-list"), {}).status_code == 403
    external = client_for(users["external"])
    assert external.get(reverse("deliverable-list")).json()["count"] == 3
    answer = external.post(
        reverse("deliverable-decide", args=[created.json()["id"]]), {"verdict": "accept"}
    )
    assert answer.status_code == 200
    assert (
        answer.json()["status"] == "accepted"
        and answer.json()["accepted_by_name"] == "Marc Lefèvre"
    )
    assert (
        DeliverableEvent.objects.filter(deliverable_id=created.json()["id"], **DECISIONS).count()
        == 1
    )


def test_a_change_deliverable_needs_the_change_paid_for(users):
    sky = Agreement.objects.get(reference="CT-SKY-2026", status="active")
    patches = ChangeRequest.objects.get(title="Hypervisor security patches")
    with pytest.raises(DomainError, match="has not paid for"):
        services.add_deliverable(
            actor=users["change"], agreement=sky, change=patches, title="Patched hosts"
        )
    with pytest.raises(PermissionDenied):
        services.add_deliverable(actor=users["finance"], agreement=sky, title="x")
    assert Deliverable.objects.count() == 2
