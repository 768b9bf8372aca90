"""Credit notes (decision 0026): partial or full, with a reason, their own gapless series,
the reversal posted as a new entry, never more than remains creditable, customers see their
own only; the page, the API and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.billing import credit_notes
from servicebook.finance.billing.legal_models import CreditNote
from servicebook.finance.billing.models import Invoice
from servicebook.finance.ledger.models import JournalEntry
from servicebook.finance.ledger.verify import verify as verify_ledger

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 25)


@pytest.fixture
def retail():
    return Invoice.objects.get(period="2026-10", customer__code="meridian")


def test_the_demo_credit_note_posts_and_reconciles():
    note = CreditNote.objects.get()
    assert note.number == "CN-2026-00001" and note.invoice.customer.code == "skybridge"
    assert (note.net_amount, note.tax_amount, note.total) == (D("900"), D("180"), D("1080"))
    sides = {(ln.account.purpose, ln.debit, ln.credit) for ln in note.entry.lines.all()}
    assert sides == {
        ("revenue", D("900.00"), 0),
        ("vat_payable", D("180.00"), 0),
        ("receivable", 0, D("1080.00")),
    }
    invoice = note.invoice
    assert invoice.credited == D("1080.00") and invoice.credited_net == D("900.00")
    assert invoice.outstanding_cash == invoice.cash_amount - invoice.paid_cash - D("1080.00")
    assert verify_ledger()["ok"]


def test_a_full_credit_note_settles_the_invoice_and_the_next_number_follows(users, retail):
    entries = JournalEntry.objects.count()
    note = credit_notes.issue_credit_note(
        actor=users["finance"],
        invoice=retail,
        amount=retail.total,
        reason="Contract void",
        date=DAY,
    )
    assert note.number == "CN-2026-00002" and note.tax_amount == 0  # reverse charge
    retail.refresh_from_db()
    assert retail.status == "paid" and retail.outstanding == 0 and retail.creditable == 0
    assert JournalEntry.objects.count() == entries + 1
    assert verify_ledger()["ok"]
    with pytest.raises(DomainError, match="exceeds what remains creditable"):
        credit_notes.issue_credit_note(
            actor=users["finance"], invoice=retail, amount="0.01", reason="again", date=DAY
        )


@pytest.mark.parametrize(
    "amount, reason, date, message",
    [
        ("22040.01", "too much", DAY, "exceeds what remains creditable"),
        ("0", "zero", DAY, "positive"),
        ("1.001", "cents", DAY, "minor units"),
        ("10", "  ", DAY, "needs a reason"),
        ("10", "closed month", dt.date(2026, 10, 31), "predate|closed"),
        ("1e30", "huge", DAY, "exceeds what remains creditable"),
        ("10", "bell \x07 and escape \x1b", DAY, r"character U\+0007 at position 6"),
        ("10", "x" * 501, DAY, "at most 500 characters"),
        ("10", "future", dt.date(2999, 1, 1), "not after today"),
        ("10", "before the demo's CN-2026-00001", dt.date(2026, 11, 19), "date order"),
    ],
)
def test_bad_credit_notes_are_refused_and_change_nothing(
    users, retail, amount, reason, date, message
):
    before = CreditNote.objects.count(), JournalEntry.objects.count()
    with pytest.raises(DomainError, match=message):
        credit_notes.issue_credit_note(
            actor=users["finance"], invoice=retail, amount=amount, reason=reason, date=date
        )
    assert (CreditNote.objects.count(), JournalEntry.objects.count()) == before
    retail.refresh_from_db()
    assert retail.credited == 0


def test_only_finance_issues_credit_notes(users, retail):
    with pytest.raises(PermissionDenied):
        credit_notes.issue_credit_note(
            actor=users["manager"], invoice=retail, amount="10", reason="no", date=DAY
        )


def test_page_form_and_credit_note_page(users, web_for, retail):
    web = web_for(users["finance"])
    page = web.get(reverse("finance:invoice", args=[retail.pk])).content.decode()
    assert 'data-testid="credit-note-form"' in page
    response = web.post(
        reverse("finance:invoice-credit-note", args=[retail.pk]),
        {"amount": "100.00", "reason": "Late delivery goodwill", "date": "2026-11-25"},
    )
    assert response.status_code == 302
    note = CreditNote.objects.get(invoice=retail)
    detail = web.get(reverse("finance:credit-note", args=[note.pk])).content.decode()
    assert note.number in detail and "Late delivery goodwill" in detail
    refused = web.post(
        reverse("finance:invoice-credit-note", args=[retail.pk]),
        {"amount": "99999.00", "reason": "x", "date": "2026-11-25"},
    )
    assert (
        refused.status_code == 200 and "exceeds what remains creditable" in refused.content.decode()
    )


def test_api_issues_and_customers_see_their_own_only(users, client_for, retail):
    created = client_for(users["finance"]).post(
        "/api/credit-notes/",
        {"invoice": retail.pk, "amount": "50.00", "reason": "goodwill", "date": "2026-11-25"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["number"].startswith("CN-2026-")
    mine = client_for(users["external"]).get("/api/credit-notes/").json()
    rows = mine["results"] if isinstance(mine, dict) else mine
    assert rows and {row["customer_name"] for row in rows} == {"SkyBridge Airlines"}
    other = client_for(users["external"]).get(f"/api/credit-notes/{created.json()['id']}/")
    assert other.status_code == 404
    refused = client_for(users["external"]).post(
        "/api/credit-notes/", {"invoice": retail.pk, "amount": "1", "reason": "x"}, format="json"
    )
    assert refused.status_code in (403, 404)


def test_cli_credit_note(users, retail, capsys, monkeypatch):
    from servicebook.cli import main
    from servicebook.finance.ledger import periods

    monkeypatch.setattr(periods, "today", lambda: DAY)
    code = main(
        ["credit-note", retail.number, "--amount", "25.00", "--reason", "CLI goodwill", "--json"]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["invoice"] == retail.number and summary["total"] == "25.00"
    assert CreditNote.objects.filter(invoice=retail, reason="CLI goodwill").exists()
    try:
        code = main(["credit-note", "INV-1999-00001", "--amount", "1", "--reason", "x"])
    except SystemExit as stop:
        code = stop.code
    assert code not in (0, None)
    assert "no invoice numbered" in capsys.readouterr().err
    try:  # an amount beyond any money field: one line, not a traceback
        code = main(["credit-note", retail.number, "--amount", "1e30", "--reason", "x"])
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "exceeds what remains creditable" in err[0]


def test_a_credit_note_with_text_xml_cannot_carry_answers_a_refusal_not_an_error(
    users, web_for, client_for, retail
):
    """A note saved before the reason was checked (here: written past the service) still gets a
    clear refusal from its downloads, never a server error."""
    note = credit_notes.issue_credit_note(
        actor=users["finance"], invoice=retail, amount="10", reason="ok", date=DAY
    )
    CreditNote.objects.filter(pk=note.pk).update(reason="escape \x1b")
    page = web_for(users["finance"]).get(reverse("finance:credit-note-ubl", args=[note.pk]))
    assert page.status_code == 302
    api = client_for(users["finance"]).get(f"/api/credit-notes/{note.pk}/ubl/")
    assert api.status_code == 400 and "cannot be written as XML" in str(api.json())


def test_the_same_form_sent_twice_issues_one_credit_note(users, web_for, retail):
    """A double click sends the form twice: the form's key makes the second a no-op."""
    web = web_for(users["finance"])
    page = web.get(reverse("finance:invoice", args=[retail.pk])).content.decode()
    assert 'name="request_key"' in page
    form = {"amount": "40.00", "reason": "double click", "date": "2026-11-25", "request_key": "k1"}
    url = reverse("finance:invoice-credit-note", args=[retail.pk])
    first = web.post(url, form)
    second = web.post(url, form, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert CreditNote.objects.filter(invoice=retail).count() == 1
    note = CreditNote.objects.get(invoice=retail)
    assert f"{note.number} was issued already" in second.content.decode()
    retail.refresh_from_db()
    assert retail.credited_net == D("40.00")
    # a new form has a new key: a second, deliberate credit note is issued
    web.post(url, {**form, "request_key": "k2"})
    assert CreditNote.objects.filter(invoice=retail).count() == 2


def test_the_api_honours_an_idempotency_key(users, client_for, retail):
    client = client_for(users["finance"])
    body = {"invoice": retail.pk, "amount": "50.00", "reason": "goodwill", "date": "2026-11-25"}
    first = client.post("/api/credit-notes/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post("/api/credit-notes/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert first.json()["number"] == again.json()["number"]
    assert CreditNote.objects.filter(invoice=retail).count() == 1
    entries = JournalEntry.objects.filter(memo__contains=first.json()["number"]).count()
    assert entries == 1
    # the key names one submission: on another invoice it is refused, not silently answered
    other = Invoice.objects.exclude(pk=retail.pk).filter(status="issued").first()
    reused = client.post(
        "/api/credit-notes/",
        {**body, "invoice": other.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="abc-1",
    )
    assert reused.status_code == 400 and "another invoice" in reused.content.decode()
    bad = client.post("/api/credit-notes/", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 65)
    assert bad.status_code == 400 and "submission key" in bad.content.decode()
    assert CreditNote.objects.count() == 1 + CreditNote.objects.exclude(invoice=retail).count()
