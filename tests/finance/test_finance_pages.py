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


def test_ledger_page_never_verifies_inline(users, web_for, monkeypatch):
    """Issue 14: the whole-ledger check takes seconds at scale, so the page only reads the last
    verification's answer (none yet here) and offers to run one."""
    from servicebook.finance.ledger import verify as verification

    monkeypatch.setattr(verification, "verify", lambda **kw: pytest.fail("verified inline"))
    page = web_for(users["finance"]).get(reverse("finance:ledger")).content.decode()
    assert "has not been verified yet" in page and "Verify now" in page


def test_verify_now_runs_a_job_and_the_page_says_when_and_what_was_posted_since(
    users, web_for, settings, django_capture_on_commit_callbacks, tmp_path
):
    from servicebook.core.models import Job, JobStatus
    from servicebook.finance.job_names import VERIFY_LEDGER
    from servicebook.finance.ledger.models import JournalEntry
    from tests.inline_jobs import inline_jobs

    web = web_for(users["finance"])
    with inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path):
        started = web.post(reverse("finance:ledger"))
    job = Job.objects.filter(kind=VERIFY_LEDGER).latest("pk")
    assert started.status_code == 302 and started["Location"] == reverse("web:job", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED and job.user == users["finance"]
    assert job.summary["ok"] and job.summary["entries"] == JournalEntry.objects.count()
    response = web.get(reverse("finance:ledger"))
    page = response.content.decode()
    assert "Ledger verified" in page and "every invariant held" in page
    assert response.context["verify"]["current"] and "Not verified since" not in page
    credit_notes.issue_credit_note(
        actor=users["finance"],
        invoice=Invoice.objects.get(period="2026-10", customer__code="meridian"),
        amount="1.00",
        reason="posts an entry",
        date=dt.date(2026, 11, 25),
    )
    page = web.get(reverse("finance:ledger")).content.decode()
    assert "Ledger verified" in page and "Not verified since:" in page
    assert "1 entry posted after it" in page


def test_a_queued_verification_is_shown_and_only_ledger_readers_start_one(users, web_for):
    from servicebook.core.models import Job
    from servicebook.finance.job_names import VERIFY_LEDGER

    before = Job.objects.filter(kind=VERIFY_LEDGER).count()
    assert web_for(users["manager"]).post(reverse("finance:ledger")).status_code == 403
    assert web_for(users["external"]).post(reverse("finance:ledger")).status_code == 403
    assert Job.objects.filter(kind=VERIFY_LEDGER).count() == before
    web = web_for(users["admin"])
    assert web.post(reverse("finance:ledger")).status_code == 302  # queued (no worker here)
    page = web.get(reverse("finance:ledger")).content.decode()
    assert "A verification is queued" in page


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


@pytest.mark.parametrize("days_later", [0, 20, 45, 75, 120])
def test_receivables_by_age_are_each_open_invoice_in_its_bucket(users, days_later):
    """Issue 14: the aging is one grouped query; it gives what invoice by invoice gives."""
    from servicebook.finance.billing import selectors
    from servicebook.finance.billing.models import InvoiceStatus

    invoices = Invoice.objects.all()
    today = min(i.due_date for i in invoices) + dt.timedelta(days=days_later)
    expected = dict.fromkeys(["current", "1-30", "31-60", "61-90", "90+"], 0)
    for inv in invoices.exclude(status=InvoiceStatus.PAID):
        days = inv.days_overdue(today)
        bucket = (
            next(
                label
                for label, most in (("current", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90))
                if days <= most
            )
            if days <= 90
            else "90+"
        )
        expected[bucket] += inv.outstanding
    assert selectors.aging(invoices, today) == expected
    assert any(expected.values())
