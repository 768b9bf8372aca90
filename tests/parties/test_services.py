"""Customer and contact services: kind-specific rules, lifecycle with history, permissions."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.parties import services
from servicebook.parties.models import Customer, CustomerEvent, Provider


def _internal(**overrides):
    fields = dict(
        kind="internal",
        name="Legal",
        code="legal",
        business_unit="Group Legal",
        cost_centre="CC-1",
        funding_model="showback",
    )
    return {**fields, **overrides}


def test_create_internal_customer_records_an_event(users):
    customer = services.create_customer(
        actor=users["manager"], provider=Provider.current(), **_internal()
    )
    assert customer.status == "prospect"
    assert customer.billing_currency == "EUR"
    event = customer.events.get()
    assert (event.action, event.to_state, event.actor) == ("created", "prospect", users["manager"])


def test_kind_specific_fields_are_enforced(users):
    before = Customer.objects.count()
    with pytest.raises(ValidationError) as error:
        services.create_customer(
            actor=users["manager"],
            provider=Provider.current(),
            **_internal(cost_centre="", payment_terms_days=30),
        )
    assert "required for an internal customer" in error.value.message_dict["cost_centre"][0]
    assert "does not apply" in error.value.message_dict["payment_terms_days"][0]
    with pytest.raises(ValidationError) as error:
        services.create_customer(
            actor=users["manager"],
            provider=Provider.current(),
            kind="external",
            name="Acme",
            code="acme",
            legal_name="Acme SA",
        )
    assert set(error.value.message_dict) >= {"jurisdiction", "currency", "payment_terms_days"}
    assert Customer.objects.count() == before


def test_only_editors_create_customers(users):
    for username in ("finance", "change", "internal", "external"):
        with pytest.raises(PermissionDenied):
            services.create_customer(
                actor=users[username], provider=Provider.current(), **_internal()
            )
    assert not Customer.objects.filter(code="legal").exists()


def test_suspension_needs_a_reason_and_keeps_history(users):
    retail = Customer.objects.get(code="meridian")
    with pytest.raises(ValidationError, match="needs a reason"):
        services.change_customer_status(
            actor=users["finance"], customer=retail, to_status="suspended"
        )
    retail.refresh_from_db()
    assert retail.status == "active"
    services.change_customer_status(
        actor=users["finance"],
        customer=retail,
        to_status="suspended",
        reason="non_payment",
        note="three invoices overdue",
    )
    retail.refresh_from_db()
    assert (retail.status, retail.status_reason) == ("suspended", "non_payment")
    event = CustomerEvent.objects.filter(customer=retail).last()
    assert (event.from_state, event.to_state, event.reason, event.actor) == (
        "active",
        "suspended",
        "non_payment",
        users["finance"],
    )
    with pytest.raises(DomainError, match="is suspended and cannot become due diligence"):
        services.change_customer_status(
            actor=users["manager"], customer=retail, to_status="due_diligence"
        )


def test_status_cannot_be_edited_directly(users):
    retail = Customer.objects.get(code="meridian")
    with pytest.raises(ValidationError, match="lifecycle"):
        services.update_customer(actor=users["manager"], customer=retail, status="terminated")


def test_approver_needs_an_authority_limit(users):
    retail = Customer.objects.get(code="meridian")
    with pytest.raises(ValidationError, match="authority limit"):
        services.create_contact(actor=users["manager"], customer=retail, name="X", is_approver=True)
    contact = services.create_contact(
        actor=users["manager"],
        customer=retail,
        name="Y",
        is_approver=True,
        authority_limit=D("1000"),
    )
    assert contact.roles == ["approver"]


def test_customer_users_get_the_role_their_kind_names(users):
    airline = Customer.objects.get(code="skybridge")
    user = services.create_customer_user(
        actor=users["admin"], customer=airline, username="ops", password="a-long-password-1"
    )
    assert list(user.groups.values_list("name", flat=True)) == ["external_customer"]
    with pytest.raises(PermissionDenied):
        services.create_customer_user(
            actor=users["manager"], customer=airline, username="ops2", password="x" * 12
        )
