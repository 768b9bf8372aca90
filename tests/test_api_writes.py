"""API writes go through the services: field errors on bad input, and nothing written."""

from django.urls import reverse

from servicebook.agreements.models import Agreement, AgreementLine
from servicebook.catalog.models import Offering
from servicebook.parties.models import Customer, CustomerEvent


def test_create_customer_with_invalid_data_returns_field_errors(users, client_for):
    client = client_for(users["manager"])
    before = (Customer.objects.count(), CustomerEvent.objects.count())
    response = client.post(
        reverse("customer-list"),
        {
            "kind": "external",
            "name": "Acme",
            "code": "acme",
            "currency": "EUR",
            "funding_model": "x",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"funding_model"}  # the serializer's own field checks come first
    response = client.post(
        reverse("customer-list"),
        {"kind": "external", "name": "Acme", "code": "acme", "jurisdiction": "fr"},
        format="json",
    )
    assert response.status_code == 400
    assert "ISO 3166" in response.json()["jurisdiction"][0]
    response = client.post(
        reverse("customer-list"),
        {"kind": "external", "name": "Acme", "code": "acme", "cost_centre": "CC-1"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert {"legal_name", "jurisdiction", "currency", "payment_terms_days"} <= set(body)
    assert "does not apply" in body["cost_centre"][0]
    assert (Customer.objects.count(), CustomerEvent.objects.count()) == before


def test_create_customer_and_contact(users, client_for):
    client = client_for(users["manager"])
    response = client.post(
        reverse("customer-list"),
        {
            "kind": "external",
            "name": "Acme",
            "code": "acme",
            "legal_name": "Acme SA",
            "jurisdiction": "FR",
            "currency": "EUR",
            "payment_terms_days": 30,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    customer_id = response.json()["id"]
    assert response.json()["agreement_kind"] == "contract"
    response = client.post(
        reverse("contact-list"),
        {"customer": customer_id, "name": "Ann", "is_approver": True},
        format="json",
    )
    assert response.status_code == 400
    assert "authority_limit" in response.json()


def test_agreement_flow_over_the_api(users, client_for):
    client = client_for(users["manager"])
    hr = Customer.objects.get(code="hr")
    response = client.post(
        reverse("agreement-list"),
        {"customer": hr.pk, "reference": "SLA-HR-2", "title": "More", "start_date": "2026-02-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    agreement = response.json()
    assert agreement["kind"] == "sla" and agreement["legally_binding"] is False
    laptop = Offering.objects.get(code="laptop")
    response = client.post(
        reverse("agreementline-list"),
        {"agreement": agreement["id"], "offering": laptop.pk, "quantity": "-3"},
        format="json",
    )
    assert response.status_code == 400 and "quantity" in response.json()
    assert not AgreementLine.objects.filter(agreement_id=agreement["id"]).exists()
    response = client.post(
        reverse("agreementline-list"),
        {"agreement": agreement["id"], "offering": laptop.pk, "quantity": "5"},
        format="json",
    )
    assert response.status_code == 201, response.content
    response = client.post(
        reverse("agreement-status", args=[agreement["id"]]), {"to_status": "active"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "activation_refused"
    assert "not signed" in response.json()["detail"]
    approver = hr.contacts.get(is_approver=True)
    response = client.post(
        reverse("agreement-sign", args=[agreement["id"]]), {"contact": approver.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    response = client.post(
        reverse("agreement-status", args=[agreement["id"]]), {"to_status": "active"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "active"
    response = client.post(
        reverse("agreement-status", args=[agreement["id"]]), {"to_status": "draft"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_transition"
    assert Agreement.objects.get(pk=agreement["id"]).status == "active"


def test_suspend_over_the_api(users, client_for):
    retail = Customer.objects.get(code="meridian")
    url = reverse("customer-status", args=[retail.pk])
    client = client_for(users["finance"])
    assert client.post(url, {"to_status": "suspended"}, format="json").status_code == 400
    response = client.post(url, {"to_status": "suspended", "reason": "non_payment"}, format="json")
    assert response.status_code == 200 and response.json()["status_reason"] == "non_payment"
    events = client.get(reverse("customer-events", args=[retail.pk])).json()
    assert events[-1]["to_state"] == "suspended" and events[-1]["actor"] == "Felix Finance"
    assert client_for(users["change"]).post(url, {"to_status": "active"}).status_code == 403


def test_filtering_and_pagination(users, client_for):
    client = client_for(users["manager"])
    body = client.get(reverse("customer-list"), {"kind": "internal"}).json()
    assert body["count"] == 4 and all(row["kind"] == "internal" for row in body["results"])
    body = client.get(reverse("customer-list"), {"search": "sky"}).json()
    assert [row["code"] for row in body["results"]] == ["skybridge"]
    assert set(client.get(reverse("agreement-list")).json()) >= {"count", "next", "previous"}
