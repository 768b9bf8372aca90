"""Finance pages render for the roles that may see them, and refuse the others."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from servicebook.finance.billing import credit_notes
from servicebook.finance.billing.models import Invoice, Statement

pytestmark = pytest.mark.django_db
STAFF_PAGES = ["finance:home", "finance:costs", "finance:reports"]


@pytest.mark.parametrize("role", ["finance", "manager", "admin"])
def test_staff_pages_render(users, web_for, role):
    web = web_for(users[role])
    for name in [*STAFF_PAGES, "finance:documents"]:
        response = web.get(reverse(name))
        assert response.status_code == 200, name
    # the ledger: finance and the admin only (tests/finance/test_ledger_margin_access.py)
    assert web.get(reverse("finance:ledger")).status_code == (403 if role == "manager" else 200)


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_see_only_their_documents(users, web_for, role):
    web = web_for(users[role])
    for name in ("finance:costs", "finance:reports", "finance:ledger"):
        assert web.get(reverse(name)).status_code == 403
    assert web.get(reverse("finance:home")).status_code == 302
    page = web.get(reverse("finance:documents")).content.decode()
    mine = "Marketing" if role == "internal" else "SkyBridge"
    other = "SkyBridge" if role == "internal" else "Marketing"
    assert mine in page and other not in page


def test_reports_page_has_charts_and_the_r8_figure(users, web_for):
    page = web_for(users["finance"]).get(reverse("finance:reports")).content.decode()
    assert page.count("data-chart=") >= 4
    assert "funded by external customers" in page
    csv = web_for(users["finance"]).get(reverse("finance:report-csv", args=["funding"]))
    assert csv.status_code == 200 and "consumption_at_cost" in csv.content.decode()


def test_statement_page_pdf_and_csv(users, web_for):
    statement = Statement.objects.get(period="2026-10", customer__code="marketing")
    web = web_for(users["internal"])
    page = web.get(reverse("finance:statement", args=[statement.pk])).content.decode()
    assert "Consumption at cost" in page and "never revenue" in page
    assert web.get(reverse("finance:statement-csv", args=[statement.pk])).status_code == 200
    pdf = web.get(reverse("finance:statement-pdf", args=[statement.pk]))
    assert pdf.content.startswith(b"%PDF")


def test_airline_invoice_page_shows_cash_and_tickets(users, web_for):
    invoice = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    page = web_for(users["external"]).get(reverse("finance:invoice", args=[invoice.pk]))
    text = page.content.decode()
    assert "EUR 18,217.32" in text and "EUR 7,006.68" in text and "In kind:" in text
    assert "payment-form" not in text


def test_ledger_page_says_verified(users, web_for):
    page = web_for(users["finance"]).get(reverse("finance:ledger")).content.decode()
    assert "Ledger verified" in page and "check again" in page


def test_ledger_page_verifies_again_only_when_the_ledger_changed(users, web_for, monkeypatch):
    """Issue 14: the whole-ledger check is not rerun on every view of the page; a posting (or a
    close), or "check again", runs it afresh."""
    from servicebook.finance.ledger import verify as verification

    runs = []
    real = verification.verify
    monkeypatch.setattr(verification, "verify", lambda **kw: runs.append(1) or real(**kw))
    web = web_for(users["finance"])
    web.get(reverse("finance:ledger"))
    web.get(reverse("finance:ledger"))
    assert len(runs) <= 1  # the first view may find the answer of an earlier test's ledger
    before = len(runs)
    web.get(reverse("finance:ledger") + "?verify=now")
    assert len(runs) == before + 1
    web.get(reverse("finance:ledger"))
    assert len(runs) == before + 1  # nothing posted since
    credit_notes.issue_credit_note(
        actor=users["finance"],
        invoice=Invoice.objects.get(period="2026-10", customer__code="meridian"),
        amount="1.00",
        reason="posts an entry",
        date=dt.date(2026, 11, 25),
    )
    page = web.get(reverse("finance:ledger")).content.decode()
    assert len(runs) == before + 2 and "Ledger verified" in page


def test_finance_home_lists_only_the_oldest_overdue_invoices(users, web_for, monkeypatch):
    """Issue 14: the overdue table is bounded (the rest counted), whatever the number overdue."""
    from servicebook.finance.billing import views

    monkeypatch.setattr(views, "OVERDUE_SHOWN", 1)
    response = web_for(users["finance"]).get(reverse("finance:home"))
    overdue = response.context["overdue"]
    assert len(overdue) <= 1
    if overdue:
        shown = overdue[0][0]
        assert response.context["overdue_more"] >= 0
        assert "overdue-more" in response.content.decode() or response.context["overdue_more"] == 0
        assert shown.due_date < response.context["today"]
