"""R16: suspension for non-payment needs something to pay and something overdue."""

import datetime as dt

import pytest
from django.urls import reverse

from servicebook.core.errors import DomainError
from servicebook.parties import services
from servicebook.parties.billing import overdue_documents
from servicebook.parties.models import Customer

ON = dt.date(2026, 11, 30)


def suspend(user, customer, today=ON):
    return services.change_customer_status(
        actor=user, customer=customer, to_status="suspended", reason="non_payment", today=today
    )


@pytest.mark.parametrize("code", ["hr", "finance-dept"])  # central allocation, showback
def test_refused_for_customers_whose_policy_has_nothing_to_pay(users, code):
    customer = Customer.objects.get(code=code)
    events = customer.events.count()
    with pytest.raises(DomainError, match="has nothing to pay") as refusal:
        suspend(users["finance"], customer)
    assert refusal.value.code == "nothing_to_pay"
    customer.refresh_from_db()
    assert (customer.status, customer.events.count()) == ("active", events)


def test_refused_for_a_chargeback_customer_with_nothing_overdue(users):
    marketing = Customer.objects.get(code="marketing")
    assert marketing.policy.pays_for_service(marketing)
    with pytest.raises(DomainError, match="no overdue invoice or statement"):
        suspend(users["finance"], marketing)
    marketing.refresh_from_db()
    assert marketing.status == "active"


def test_refused_for_an_external_customer_with_no_overdue_invoice(users):
    pacific = Customer.objects.get(code="pacific")  # its March invoice is due on 1 May
    april = dt.date(2026, 4, 15)
    assert overdue_documents(pacific, today=april) == []
    with pytest.raises(DomainError, match="no overdue invoice"):
        suspend(users["finance"], pacific, today=april)
    pacific.refresh_from_db()
    assert pacific.status == "active"


def test_accepted_with_an_overdue_invoice(users):
    retail = Customer.objects.get(code="meridian")
    later = dt.date(2027, 2, 1)
    assert [doc.kind for doc in overdue_documents(retail, today=later)]
    suspend(users["finance"], retail, today=later)
    retail.refresh_from_db()
    assert (retail.status, retail.status_reason) == ("suspended", "non_payment")


def test_other_reasons_need_no_invoice(users):
    hr = Customer.objects.get(code="hr")
    services.change_customer_status(
        actor=users["manager"], customer=hr, to_status="suspended", reason="illegal_use"
    )
    hr.refresh_from_db()
    assert hr.status_reason == "illegal_use"


def test_the_api_refuses_with_the_reason(users, client_for):
    hr = Customer.objects.get(code="hr")
    response = client_for(users["finance"]).post(
        reverse("customer-status", args=[hr.pk]),
        {"to_status": "suspended", "reason": "non_payment"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "nothing_to_pay"
    hr.refresh_from_db()
    assert hr.status == "active"


def test_demo_orion_is_suspended_on_overdue_invoices(db):
    orion = Customer.objects.get(code="orion")
    assert (orion.status, orion.status_reason) == ("suspended", "non_payment")
    assert overdue_documents(orion, today=dt.date.today())
