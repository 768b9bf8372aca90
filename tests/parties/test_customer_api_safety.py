"""Bounded payment terms, a currency locked by its invoices, and permission checked before the
body is read (a refusal never tells which codes other customers or services use)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from servicebook.catalog.models import Offering, Service
from servicebook.core.errors import DomainError
from servicebook.parties import services
from servicebook.parties.models import Customer, JurisdictionRule


def test_payment_terms_are_bounded(users, client_for):
    retail = Customer.objects.get(code="meridian")
    with pytest.raises(ValidationError, match="payment_terms_days"):
        services.update_customer(
            actor=users["manager"], customer=retail, payment_terms_days=2_147_483_648
        )
    response = client_for(users["manager"]).patch(
        reverse("customer-detail", args=[retail.pk]),
        {"payment_terms_days": 366},
        format="json",
    )
    assert response.status_code == 400 and "payment_terms_days" in response.json()
    retail.refresh_from_db()
    assert retail.payment_terms_days == 45
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=retail.pk).update(payment_terms_days=400)


def test_currency_is_locked_once_invoices_exist(users, client_for):
    retail = Customer.objects.get(code="meridian")
    assert retail.invoices.exists()
    with pytest.raises(DomainError, match="already has invoices in EUR"):
        services.update_customer(actor=users["manager"], customer=retail, currency="USD")
    response = client_for(users["manager"]).patch(
        reverse("customer-detail", args=[retail.pk]), {"currency": "USD"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "currency_locked"
    retail.refresh_from_db()
    assert retail.currency == "EUR"


def test_currency_may_change_before_any_invoice(users):
    acme = services.create_customer(
        actor=users["manager"],
        provider=retail_provider(),
        kind="external",
        name="Acme",
        code="acme",
        legal_name="Acme SA",
        jurisdiction="FR",
        currency="EUR",
        payment_terms_days=30,
    )
    services.update_customer(actor=users["manager"], customer=acme, currency="USD")
    acme.refresh_from_db()
    assert acme.currency == "USD"


def retail_provider():
    return Customer.objects.get(code="meridian").provider


WRITES = [
    ("customer-list", {"code": "meridian", "kind": "external", "name": "x"}),
    ("customer-list", {"code": "no-such-code", "kind": "external", "name": "x"}),
    ("customer-list", {}),
    ("service-list", {"code": "cloud-hosting", "name": "x"}),
    ("service-list", {"code": "no-such-service", "name": "x"}),
    ("offering-list", {"code": "laptop", "name": "x"}),
    ("offering-list", {"code": "no-such-offering"}),
    ("specification-list", {"service": 1}),
    ("jurisdictionrule-list", {"jurisdiction": "FR", "allowed_locations": ["FR"]}),
    ("jurisdictionrule-list", {"jurisdiction": "JP"}),
    ("contact-list", {"customer": 1, "name": "x"}),
    ("commitment-list", {"customer": 1}),
]


@pytest.mark.parametrize("username", ["external", "internal", "change"])
@pytest.mark.parametrize(("route", "body"), WRITES)
def test_permission_is_checked_before_the_body(users, client_for, username, route, body):
    counts = (Customer.objects.count(), Service.objects.count(), Offering.objects.count())
    response = client_for(users[username]).post(reverse(route), body, format="json")
    assert response.status_code == 403, response.content
    assert "already exists" not in response.content.decode()
    after = (Customer.objects.count(), Service.objects.count(), Offering.objects.count())
    assert after == counts


def test_updates_check_permission_first_too(users, client_for):
    retail = Customer.objects.get(code="meridian")
    response = client_for(users["change"]).patch(
        reverse("customer-detail", args=[retail.pk]), {"code": "skybridge"}, format="json"
    )
    assert response.status_code == 403


def test_a_jurisdiction_rule_without_locations_is_a_field_error(users, client_for):
    client = client_for(users["manager"])
    response = client.post(reverse("jurisdictionrule-list"), {"jurisdiction": "JP"}, format="json")
    assert response.status_code == 400
    assert "allowed_locations" in response.json()
    response = client.post(
        reverse("jurisdictionrule-list"),
        {"jurisdiction": "JP", "allowed_locations": ["jp"]},
        format="json",
    )
    assert response.status_code == 400 and "allowed_locations" in response.json()
    # two capitals are not enough: the code must be in ISO 3166-1
    for codes, words in ((["UK"], "use GB"), (["JP", "QQ"], "'QQ' is not")):
        response = client.post(
            reverse("jurisdictionrule-list"),
            {"jurisdiction": "JP", "allowed_locations": codes},
            format="json",
        )
        assert response.status_code == 400 and words in str(response.json()["allowed_locations"])
    response = client.post(
        reverse("jurisdictionrule-list"),
        {"jurisdiction": "XX", "allowed_locations": ["JP"]},
        format="json",
    )
    assert response.status_code == 400 and "not an ISO 3166-1" in str(response.json())
    assert not JurisdictionRule.objects.filter(jurisdiction="JP").exists()
    response = client.post(
        reverse("jurisdictionrule-list"),
        {"jurisdiction": "JP", "allowed_locations": ["JP"]},
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("username", ["external", "internal"])
def test_workflow_actions_check_the_role_first(users, client_for, username):
    client = client_for(users[username])
    own = users[username].customer
    commitment = Customer.objects.get(code="marketing").commitments.first()
    urls = [
        reverse("customer-status", args=[own.pk]),
        reverse("customer-difficulty", args=[own.pk]),
        reverse("duediligence-list"),
        reverse("duediligence-waive"),
        reverse("commitment-detect"),
    ]
    if username == "internal":
        urls.append(reverse("commitment-breach", args=[commitment.pk]))
    for url in urls:
        response = client.post(url, {}, format="json")
        assert response.status_code == 403, (url, response.content)
