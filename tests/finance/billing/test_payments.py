"""Payments in cash and in kind (R3), reminders at 30/60/90 days, suspension for non-payment
(R16)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.billing import services
from servicebook.finance.billing.models import Invoice, Payment, Reminder
from servicebook.finance.ledger.verify import verify as verify_ledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def airline():
    return Invoice.objects.get(period="2026-10", customer__code="skybridge")


@pytest.fixture
def retail_september():
    return Invoice.objects.get(period="2026-09", customer__code="meridian")


def test_demo_airline_paid_in_cash_and_tickets():
    september = Invoice.objects.get(period="2026-09", customer__code="skybridge")
    assert september.status == "paid"
    kinds = set(september.payments.values_list("kind", flat=True))
    assert kinds == {"cash", "in_kind"}


def test_cash_and_in_kind_payments_settle_their_own_part(users, airline):
    finance = users["finance"]
    services.record_payment(
        actor=finance,
        invoice=airline,
        kind="cash",
        amount=airline.outstanding_cash,  # VAT included, less the demo's credit note
        date=dt.date(2026, 11, 20),
        reference="SEPA",
    )
    airline.refresh_from_db()
    assert airline.status == "partially_paid" and airline.outstanding_cash == 0
    services.record_payment(
        actor=finance,
        invoice=airline,
        kind="in_kind",
        amount=airline.outstanding_in_kind,
        date=dt.date(2026, 11, 21),
        reference="2 tickets",
    )
    airline.refresh_from_db()
    assert airline.status == "paid" and airline.outstanding == 0
    payment = airline.payments.filter(kind="in_kind").last()
    purposes = {(ln.account.purpose, bool(ln.debit)) for ln in payment.entry.lines.all()}
    assert purposes == {("in_kind_received", True), ("in_kind_receivable", False)}
    assert verify_ledger()["ok"]


@pytest.mark.parametrize(
    "kind, amount, message",
    [
        ("cash", "17137.33", "exceeds"),  # 18,217.32 cash less 1,080.00 credited, + 0.01
        ("in_kind", "99999.00", "exceeds"),
        ("cash", "0", "positive"),
        ("cash", "1.001", "minor units"),
        ("barter", "1.00", "unknown payment kind"),
    ],
)
def test_bad_payments_are_refused(users, airline, kind, amount, message):
    before = Payment.objects.count(), airline.paid_cash, airline.delivered_in_kind
    with pytest.raises(DomainError, match=message):
        services.record_payment(
            actor=users["finance"],
            invoice=airline,
            kind=kind,
            amount=amount,
            date=dt.date(2026, 11, 20),
        )
    airline.refresh_from_db()
    assert (Payment.objects.count(), airline.paid_cash, airline.delivered_in_kind) == before


def test_payment_into_a_closed_period_is_refused(users, airline):
    with pytest.raises(DomainError, match="closed"):
        services.record_payment(
            actor=users["finance"],
            invoice=Invoice.objects.get(period="2026-09", customer__code="meridian"),
            kind="cash",
            amount="1.00",
            date=dt.date(2026, 10, 31),
        )


def test_only_finance_records_payments(users, airline, client_for):
    with pytest.raises(PermissionDenied):
        services.record_payment(actor=users["manager"], invoice=airline, kind="cash", amount="1")
    response = client_for(users["external"]).post(
        reverse("payment-list"),
        {"invoice": airline.pk, "kind": "cash", "amount": "1.00"},
    )
    assert response.status_code in (400, 403)
    assert not airline.payments.filter(amount=D("1.00")).exists()
    ok = client_for(users["finance"]).post(
        reverse("payment-list"),
        {"invoice": airline.pk, "kind": "cash", "amount": "100.00", "date": "2026-11-21"},
    )
    assert ok.status_code == 201


def test_reminders_age_30_60_90_once_each(users, retail_september):
    due = retail_september.due_date
    early = services.send_reminders(actor=users["finance"], today=due + dt.timedelta(days=29))
    assert retail_september.pk not in {r.invoice_id for r in early}
    first = services.send_reminders(actor=users["finance"], today=due + dt.timedelta(days=30))
    assert retail_september.pk in {r.invoice_id for r in first}
    again = services.send_reminders(actor=users["finance"], today=due + dt.timedelta(days=31))
    assert retail_september.pk not in {r.invoice_id for r in again}
    services.send_reminders(actor=users["finance"], today=due + dt.timedelta(days=95))
    levels = set(Reminder.objects.filter(invoice=retail_september).values_list("level", flat=True))
    assert levels == {1, 3}
    with pytest.raises(PermissionDenied):
        services.send_reminders(actor=users["manager"])


def test_suspension_for_non_payment_is_recorded(users, retail_september):
    customer = retail_september.customer
    with pytest.raises(PermissionDenied):
        services.suspend_for_non_payment(actor=users["manager"], customer=customer)
    customer.refresh_from_db()
    assert customer.status == "active"
    services.suspend_for_non_payment(
        actor=users["finance"],
        customer=customer,
        note="September unpaid",
        today=dt.date(2026, 11, 22),
    )
    customer.refresh_from_db()
    assert customer.status == "suspended" and customer.status_reason == "non_payment"
    event = customer.events.last()
    assert event.to_state == "suspended" and event.reason == "non_payment"
    assert retail_september.events.filter(action="customer_suspended").exists()


def test_suspension_needs_an_overdue_invoice(users):
    pacific = Invoice.objects.get(period="2026-10", customer__code="pacific").customer
    with pytest.raises(DomainError, match="no overdue invoice"):
        services.suspend_for_non_payment(
            actor=users["finance"], customer=pacific, today=dt.date(2026, 4, 15)
        )
    pacific.refresh_from_db()
    assert pacific.status == "active"


def test_invoice_page_payment_and_suspend_forms(users, web_for, retail_september):
    web = web_for(users["finance"])
    page = web.get(reverse("finance:invoice", args=[retail_september.pk]))
    assert page.status_code == 200 and b"payment-form" in page.content
    response = web.post(
        reverse("finance:invoice-payment", args=[retail_september.pk]),
        {"kind": "cash", "amount": "100.00", "date": "2026-11-21", "reference": "part"},
    )
    assert response.status_code == 302
    retail_september.refresh_from_db()
    assert retail_september.paid_cash == D("100.00")
    too_much = web.post(
        reverse("finance:invoice-payment", args=[retail_september.pk]),
        {"kind": "cash", "amount": "999999.00", "date": "2026-11-21"},
    )
    assert too_much.status_code == 200 and b"exceeds" in too_much.content


def test_the_same_payment_form_sent_twice_records_one_payment(users, web_for, airline):
    """A double click sends the form twice: the form's key makes the second a no-op."""
    web = web_for(users["finance"])
    page = web.get(reverse("finance:invoice", args=[airline.pk])).content.decode()
    assert page.count('name="request_key"') >= 1
    before = airline.payments.count()
    form = {"kind": "cash", "amount": "100.00", "date": "2026-11-20", "request_key": "pay-1"}
    url = reverse("finance:invoice-payment", args=[airline.pk])
    first = web.post(url, form)
    second = web.post(url, form, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "recorded already by this form" in second.content.decode()
    assert airline.payments.count() == before + 1
    web.post(url, {**form, "request_key": "pay-2"})  # a new form: a second, deliberate payment
    assert airline.payments.count() == before + 2


def test_the_payments_api_honours_an_idempotency_key(users, client_for, airline):
    client = client_for(users["finance"])
    body = {"invoice": airline.pk, "kind": "cash", "amount": "25.00", "date": "2026-11-20"}
    first = client.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    again = client.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert first.json()["id"] == again.json()["id"]
    assert Payment.objects.filter(request_key="p-1").count() == 1
    other = Invoice.objects.exclude(pk=airline.pk).filter(status="issued").first()
    reused = client.post(
        "/api/payments/", {**body, "invoice": other.pk}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"
    )
    assert reused.status_code == 400 and "another invoice" in reused.content.decode()
    assert not other.payments.filter(request_key="p-1").exists()
    assert verify_ledger()["ok"]
