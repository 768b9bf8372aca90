"""R19: commitment breaches are history (never overwritten), detected from the data, and count in
relationship health."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.catalog.models import Service
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.improvement.selectors import health_of
from servicebook.parties import services
from servicebook.parties.models import CommitmentBreach, Customer


@pytest.fixture
def hr(db):
    return Customer.objects.get(code="hr")


def test_a_second_breach_keeps_the_first(users, hr):
    exclusivity = hr.commitments.get(kind="exclusivity")
    services.report_commitment_breach(
        actor=users["manager"], commitment=exclusivity, on=dt.date(2026, 5, 2), note="first"
    )
    services.report_commitment_breach(
        actor=users["finance"], commitment=exclusivity, on=dt.date(2026, 8, 9), note="second"
    )
    rows = list(exclusivity.breaches.values_list("occurred_on", "detail", "kind"))
    assert rows == [
        (dt.date(2026, 5, 2), "first", "reported"),
        (dt.date(2026, 8, 9), "second", "reported"),
    ]
    assert hr.events.filter(action="commitment_breached").count() == 2


def test_breach_outside_the_commitment_is_refused(users, hr):
    funding = hr.commitments.get(kind="funding")  # 2026 only
    with pytest.raises(DomainError, match="outside it"):
        services.report_commitment_breach(
            actor=users["manager"], commitment=funding, on=dt.date(2027, 2, 1), note="late"
        )
    assert not funding.breaches.exists()


def test_an_external_supplier_under_exclusivity_is_detected(users, hr):
    hosting = Service.objects.get(code="cloud-hosting")
    services.record_external_supplier(
        actor=users["manager"],
        customer=hr,
        service=hosting,
        supplier="Hyperscaler Inc.",
        since=dt.date(2026, 6, 1),
    )
    breach = hr.commitments.get(kind="exclusivity").breaches.get()
    assert (breach.kind, breach.occurred_on) == ("external_supplier", dt.date(2026, 6, 1))
    assert "Hyperscaler" in breach.detail
    with pytest.raises(PermissionDenied):
        services.record_external_supplier(
            actor=users["change"], customer=hr, service=hosting, supplier="X", since=dt.date.today()
        )


def test_demo_marketing_has_two_exclusivity_breaches(db):
    exclusivity = Customer.objects.get(code="marketing").commitments.get(kind="exclusivity")
    kinds = list(exclusivity.breaches.values_list("kind", flat=True))
    assert kinds == ["external_supplier", "reported"]


def test_consumption_over_funding_is_detected_once_a_month(users, hr):
    funding = hr.commitments.get(kind="funding")
    funding.amount_per_period = D("100")
    funding.save()
    on = dt.date(2026, 11, 15)
    found = services.detect_funding_breaches(actor=users["finance"], on=on)
    assert [b.commitment for b in found] == [funding]
    assert found[0].kind == "over_funding" and found[0].occurred_on == dt.date(2026, 11, 1)
    assert services.detect_funding_breaches(actor=users["finance"], on=on) == []
    services.detect_funding_breaches(actor=users["finance"], on=dt.date(2026, 12, 3))
    assert funding.breaches.count() == 2


def test_breaches_count_in_relationship_health(users, hr):
    before = health_of(Customer.objects.filter(pk=hr.pk), period="2026-10")[0]
    assert before.commitment_breaches == 0
    exclusivity = hr.commitments.get(kind="exclusivity")
    breach = services.report_commitment_breach(
        actor=users["manager"], commitment=exclusivity, on=dt.date(2026, 9, 1), note="SaaS"
    )
    after = health_of(Customer.objects.filter(pk=hr.pk), period="2026-10")[0]
    assert after.commitment_breaches == 1
    assert "1 commitment breach(es)" in after.concerns
    assert after.score == before.score + 1
    services.resolve_commitment_breach(actor=users["manager"], breach=breach, note="dropped")
    resolved = health_of(Customer.objects.filter(pk=hr.pk), period="2026-10")[0]
    assert resolved.commitment_breaches == 0
    assert CommitmentBreach.objects.filter(pk=breach.pk, resolved_at__isnull=False).exists()


def test_breach_history_over_the_api(users, client_for, hr):
    client = client_for(users["manager"])
    exclusivity = hr.commitments.get(kind="exclusivity")
    for day, note in ((3, "one"), (4, "two")):
        response = client.post(
            reverse("commitment-breach", args=[exclusivity.pk]),
            {"on": f"2026-07-0{day}", "note": note},
            format="json",
        )
        assert response.status_code == 200, response.content
    assert [b["detail"] for b in response.json()["breaches"]] == ["one", "two"]
    response = client_for(users["external"]).post(
        reverse("externalsupplier-list"),
        {"customer": hr.pk, "service": 1, "supplier": "x", "since": "2026-07-01"},
        format="json",
    )
    assert response.status_code == 403


def test_the_period_close_detects_consumption_over_funding(users, hr):
    from servicebook.finance.billing import services as finance

    funding = hr.commitments.get(kind="funding")
    funding.amount_per_period = D("100")
    funding.save()
    result = finance.close_period(actor=users["finance"], period="2026-05", earlier_reason="test")
    assert result["commitment_breaches"] >= 1
    breach = funding.breaches.get(detection_key="over_funding:2026-05")
    assert breach.kind == "over_funding" and breach.recorded_by is None  # found by the system
