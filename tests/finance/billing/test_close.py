"""Period close (R1, R2, R3): statements at cost, invoices split cash/in kind, postings, locking,
idempotency, atomicity (a crash mid-way leaves nothing; a rerun gives the same result)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.urls import reverse

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.billing import credits, services, write
from servicebook.finance.billing.models import Invoice, Statement
from servicebook.finance.ledger import services as ledger_services
from servicebook.finance.ledger.models import JournalEntry, JournalLine, Period
from servicebook.finance.ledger.verify import verify as verify_ledger
from servicebook.parties.models import Customer, Provider

pytestmark = pytest.mark.django_db
FREE = "2026-08"  # a month the demo has not closed
#: the demo closed 2026-10: closing the earlier FREE needs a reason
LATE = "invoices held back for a contract dispute"


def snapshot(period):
    return {
        "statements": sorted(
            Statement.objects.filter(period=period).values_list(
                "number", "customer__code", "total_cost", "total_charge", "recovered", "uncovered"
            )
        ),
        "invoices": sorted(
            Invoice.objects.filter(period=period).values_list(
                "number",
                "customer__code",
                "gross",
                "credits",
                "total",
                "cash_amount",
                "in_kind_amount",
                "due_date",
            )
        ),
        "postings": sorted(
            JournalLine.objects.filter(entry__period=period).values_list(
                "entry__memo", "account__code", "debit", "credit", "currency"
            )
        ),
    }


def test_demo_month_is_closed_with_statements_at_cost_and_the_airline_split():
    assert Period.objects.get(period="2026-10").is_closed
    marketing = Statement.objects.get(period="2026-10", customer__code="marketing")
    # internal: at cost, itemized by service, and a notional transfer (never revenue)
    assert marketing.funding_model == "chargeback"
    assert marketing.total_cost == sum(line.cost for line in marketing.lines.all())
    assert {line.service.name for line in marketing.lines.all()} >= {"Workplace IT"}
    purposes = set(marketing.entry.lines.values_list("account__purpose", flat=True))
    assert purposes == {"internal_charges", "cost_recovery"}
    showback = Statement.objects.get(period="2026-10", customer__code="finance-dept")
    assert showback.entry is None and not showback.posted and showback.recovered == 0
    airline = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    assert airline.total == D("21020.00")
    # French VAT at 20 % on the 21,020.00 (a domestic sale): paid in cash with the cash part
    assert airline.tax_amount == D("4204.00") and airline.total_incl_tax == D("25224.00")
    assert airline.cash_amount == D("18217.32") and airline.in_kind_amount == D("7006.68")
    tickets = airline.lines.get(kind="in_kind")
    assert tickets.quantity == 4 and tickets.unit_price == D("1751.67")
    sides = {(ln.account.purpose, ln.debit, ln.credit) for ln in airline.entry.lines.all()}
    assert ("receivable", D("18217.32"), 0) in sides
    assert ("vat_payable", 0, D("4204.00")) in sides
    assert ("in_kind_receivable", D("7006.68"), 0) in sides
    assert ("revenue", 0, D("21020.00")) in sides
    assert verify_ledger()["ok"]


def test_internal_charges_never_post_to_revenue():
    internal = JournalLine.objects.filter(entry__memo__startswith="Statement")
    assert internal.exists()
    assert not internal.filter(account__purpose="revenue").exists()


def test_due_date_follows_payment_terms():
    retail = Invoice.objects.get(period="2026-10", customer__code="meridian")
    assert retail.issue_date == dt.date(2026, 11, 1)
    terms = retail.agreement.payment_terms_days or retail.customer.payment_terms_days
    assert retail.due_date == retail.issue_date + dt.timedelta(days=terms)


def test_second_close_changes_nothing_and_says_so(users):
    before = snapshot("2026-10"), JournalEntry.objects.count()
    result = services.close_period(actor=users["finance"], period="2026-10")
    assert result["changed"] is False and "already closed" in result["message"]
    assert (snapshot("2026-10"), JournalEntry.objects.count()) == before


def test_dry_run_changes_nothing(users):
    entries = JournalEntry.objects.count()
    result = services.close_period(actor=users["finance"], period=FREE, dry_run=True)
    assert result["dry_run"] and not result["changed"]
    assert result["statements"] == 4 and result["invoices"] >= 3
    assert JournalEntry.objects.count() == entries
    assert not Statement.objects.filter(period=FREE).exists()
    assert not Period.objects.filter(period=FREE, status="closed").exists()


def test_close_matches_its_dry_run_and_locks(users):
    planned = services.close_period(actor=users["finance"], period=FREE, dry_run=True)
    result = services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    assert result["changed"] and result["totals"] == planned["totals"]
    assert Period.objects.get(period=FREE).is_closed
    with pytest.raises(DomainError, match="closed"):
        ledger_services.post_adjustment(
            actor=users["finance"],
            period=FREE,
            memo="late fix",
            lines=[
                {"account": "1100", "debit": "1.00", "currency": "EUR"},
                {"account": "4000", "credit": "1.00", "currency": "EUR"},
            ],
        )
    entry = ledger_services.post_adjustment(
        actor=users["finance"],
        period="2026-11",
        memo="correction of August",
        lines=[
            {"account": "1100", "debit": "1.00", "currency": "EUR"},
            {"account": "4000", "credit": "1.00", "currency": "EUR"},
        ],
    )
    assert entry.kind == "adjustment" and verify_ledger()["ok"]


def test_period_must_have_ended(users):
    with pytest.raises(DomainError, match="has not ended"):
        services.close_period(actor=users["finance"], period="2026-11", today=dt.date(2026, 11, 22))
    assert not Period.objects.filter(period="2026-11", status="closed").exists()


@pytest.mark.parametrize("bad", ["2026-13", "26-01", "", "2026-1"])
def test_bad_period_is_refused(users, bad):
    with pytest.raises(DomainError):
        services.close_period(actor=users["finance"], period=bad)


@pytest.mark.parametrize("role", ["manager", "change", "internal", "external"])
def test_only_finance_closes(users, role):
    with pytest.raises(PermissionDenied):
        services.close_period(actor=users[role], period=FREE, earlier_reason=LATE)
    assert not Statement.objects.filter(period=FREE).exists()


@pytest.mark.parametrize("role", ["manager", "internal", "external"])
def test_only_finance_closes_through_the_api(users, client_for, role):
    response = client_for(users[role]).post(reverse("period-close"), {"period": FREE})
    assert response.status_code == 403
    assert not Statement.objects.filter(period=FREE).exists()


def test_finance_closes_through_the_api_and_ui(
    users, client_for, web_for, settings, django_capture_on_commit_callbacks, tmp_path
):
    from tests.inline_jobs import inline_jobs

    refused = client_for(users["finance"]).post(
        reverse("period-close"), {"period": FREE}, format="json"
    )
    assert refused.status_code in (400, 409) and "reason" in refused.content.decode()
    response = client_for(users["finance"]).post(
        reverse("period-close"), {"period": FREE, "earlier_reason": LATE}, format="json"
    )
    assert response.status_code == 200 and response.json()["changed"] is True
    again = client_for(users["finance"]).post(reverse("period-close"), {"period": FREE})
    assert again.json()["changed"] is False
    web = web_for(users["finance"])
    with inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path):
        started = web.post(
            reverse("finance:close"),
            {
                "period": "2026-07",
                "action": "close",
                "confirm_earlier": "on",
                "earlier_reason": LATE,
            },
        )
    assert started.status_code == 302  # the close runs as a background job: its page
    page = web.get(started["Location"])
    assert b"Succeeded" in page.content and b"closed 2026-07" in page.content
    assert Period.objects.get(period="2026-07").is_closed


def test_ui_close_is_refused_to_other_roles(users, web_for):
    for role in ("manager", "internal", "external"):
        response = web_for(users[role]).post(reverse("finance:close"), {"period": FREE})
        assert response.status_code == 403
    assert not Statement.objects.filter(period=FREE).exists()


def test_crash_mid_way_leaves_nothing_and_rerun_gives_the_same_result(users, monkeypatch):
    expected = services.close_period(actor=users["finance"], period=FREE, dry_run=True)
    counts = (JournalEntry.objects.count(), Statement.objects.count(), Invoice.objects.count())
    monkeypatch.setattr(write, "CHUNK", 3)
    calls = []

    def crash(done, total):
        calls.append(done)
        if done >= total // 2:
            raise RuntimeError("power cut")

    monkeypatch.setattr(write, "after_chunk", crash)
    with pytest.raises(RuntimeError):
        services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    assert calls and calls[-1] < expected["statements"] + expected["invoices"]
    assert (
        JournalEntry.objects.count(),
        Statement.objects.count(),
        Invoice.objects.count(),
    ) == counts
    assert not Period.objects.filter(period=FREE, status="closed").exists()
    monkeypatch.setattr(write, "after_chunk", lambda done, total: None)
    result = services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    assert result["changed"] and result["totals"] == expected["totals"]
    numbers = Statement.objects.filter(period=FREE).values_list("number", flat=True)
    assert sorted(numbers) == [f"ST-{FREE}-{n:05d}" for n in range(1, 5)]
    assert verify_ledger()["ok"]


def test_credit_line_reduces_the_cash_part(users, monkeypatch):
    applied = []
    retail = Customer.objects.get(code="meridian")

    def fake_credits(agreement, period):
        if agreement.customer_id != retail.pk:
            return []
        target = agreement.targets.filter(metric="availability").first()
        return [
            SimpleNamespace(
                pk=991,
                target=target,
                attainment_percent=D("98.700"),
                credit_percent=D("10.00"),
                amount=D("2204.00"),
                currency="EUR",
            )
        ]

    monkeypatch.setattr(credits, "pending_credits", fake_credits)
    monkeypatch.setattr(
        credits, "mark_credits_applied", lambda c, ref, actor=None: applied.append((c, ref))
    )
    services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    invoice = Invoice.objects.get(period=FREE, customer=retail)
    credit = invoice.lines.get(kind="credit")
    assert credit.amount == D("-2204.00") and "98.700% attained" in credit.description
    assert invoice.credits == D("2204.00") and invoice.total == invoice.gross - D("2204.00")
    assert invoice.cash_amount == invoice.total
    sides = {(ln.account.purpose, ln.debit) for ln in invoice.entry.lines.all()}
    assert ("service_credits", D("2204.00")) in sides
    assert applied and applied[0][1] == invoice.number
    assert verify_ledger()["ok"]


def test_credits_never_exceed_the_charges(users, monkeypatch):
    retail = Customer.objects.get(code="meridian")
    monkeypatch.setattr(
        credits,
        "pending_credits",
        lambda a, p: (
            [
                SimpleNamespace(
                    pk=1,
                    target=None,
                    attainment_percent=D(0),
                    credit_percent=D(100),
                    amount=D("999999.00"),
                    currency="EUR",
                )
            ]
            if a.customer_id == retail.pk
            else []
        ),
    )
    monkeypatch.setattr(credits, "mark_credits_applied", lambda c, ref, actor=None: None)
    result = services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    invoice = Invoice.objects.get(period=FREE, customer=retail)
    assert invoice.total == 0 and invoice.credits == invoice.gross
    assert any("capped" in w for w in result["warnings"])
    assert verify_ledger()["ok"]


def test_real_levels_credit_is_applied_through_the_port(users):
    from servicebook.levels.models import Credit

    retail = Customer.objects.get(code="meridian")
    agreement = retail.agreements.get(status="active")
    target = agreement.targets.filter(metric="availability").first()
    credit = Credit.objects.create(
        agreement=agreement,
        target=target,
        period=FREE,
        attainment_percent=D("98.5"),
        credit_percent=D("10"),
        amount=D("1000.00"),
        currency="EUR",
    )
    pending = credits.pending_credits(agreement, FREE)
    if credit not in pending:
        pytest.skip("the levels feature recomputed its credits for this month")
    services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    invoice = Invoice.objects.get(period=FREE, customer=retail)
    assert invoice.lines.filter(kind="credit").exists()
    credit.refresh_from_db()
    assert credit.status == "applied" and credit.applied_reference == invoice.number


def test_demo_retailer_invoice_carries_its_sla_credit():
    march = Invoice.objects.get(period="2026-03", customer__code="meridian")
    credit = march.lines.get(kind="credit")
    assert credit.amount < 0 and march.credits == -credit.amount
    assert march.total == march.gross - march.credits == march.cash_amount
    from servicebook.levels.models import Credit

    assert Credit.objects.filter(applied_reference=march.number, status="applied").exists()


def test_internal_margin_is_charged_on_top_of_cost(users):
    Provider.objects.update(internal_margin=D("0.05"))
    services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    st = Statement.objects.get(period=FREE, customer__code="marketing")
    for line in st.lines.all():
        from servicebook.core.money import round_money

        assert line.charge == round_money(line.quantity * line.unit_cost * D("1.05"), "EUR")
    assert st.total_charge > st.total_cost and st.recovered == st.total_charge
    assert verify_ledger()["ok"]


def test_partial_recovery_posts_a_subsidy_for_the_uncovered_share(users):
    Provider.objects.update(sector="non_profit", recovery_share=D("0.6"))
    Customer.objects.filter(code="rnd").update(funding_model="partial_recovery")
    services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    st = Statement.objects.get(period=FREE, customer__code="rnd")
    assert st.recovered + st.uncovered == st.total_charge
    assert st.recovered == (st.total_charge * D("0.6")).quantize(D("0.01"))
    sides = {(ln.account.purpose, ln.debit, ln.credit) for ln in st.entry.lines.all()}
    assert ("subsidy", st.uncovered, 0) in sides
    assert ("internal_charges", st.recovered, 0) in sides
    assert ("cost_recovery", 0, st.total_charge) in sides
    assert verify_ledger()["ok"]


def test_unknown_unit_cost_refuses_the_close(users):
    from servicebook.catalog.models import Offering

    Offering.objects.filter(code="payroll-run").update(standard_unit_cost=None)
    with pytest.raises(DomainError, match="no unit cost"):
        services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    assert not Statement.objects.filter(period=FREE).exists()
