"""The ledger: balanced per currency, positive one-sided lines, immutable once posted, verified;
on PostgreSQL a deferred constraint trigger refuses an unbalanced entry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from servicebook.cli import main
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.ledger import posting, triggers
from servicebook.finance.ledger import services as ledger_services
from servicebook.finance.ledger.models import ImmutableError, JournalEntry, JournalLine
from servicebook.finance.ledger.verify import verify as verify_ledger

pytestmark = pytest.mark.django_db
OPEN = "2026-11"


def lines(*rows):
    return [{"account": a, "debit": d, "credit": c, "currency": cur} for a, d, c, cur in rows]


def test_adjustment_balances_per_currency(users):
    entry = ledger_services.post_adjustment(
        actor=users["finance"],
        period=OPEN,
        memo="fx",
        lines=lines(
            ("1000", "10.00", "0", "EUR"),
            ("9900", "0", "10.00", "EUR"),
            ("1000", "7.00", "0", "USD"),
            ("9900", "0", "7.00", "USD"),
        ),
    )
    assert entry.lines.count() == 4 and verify_ledger()["ok"]


@pytest.mark.parametrize(
    "bad, message",
    [
        ([("1000", "10.00", "0", "EUR"), ("9900", "0", "9.99", "EUR")], "does not balance"),
        ([("1000", "10.00", "0", "EUR"), ("9900", "0", "10.00", "USD")], "does not balance"),
        ([("1000", "10.00", "0", "EUR")], "at least two"),
        ([("1000", "-5.00", "0", "EUR"), ("9900", "-5.00", "0", "EUR")], "positive"),
        ([("1000", "5.00", "5.00", "EUR"), ("9900", "0", "0", "EUR")], "positive"),
        ([("1000", "0.001", "0", "EUR"), ("9900", "0", "0.001", "EUR")], "minor units"),
        ([("1000", "1.00", "0", "EUR"), ("nope", "0", "1.00", "EUR")], "unknown account"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_posted(users, bad, message):
    posting.accounts()
    before = JournalEntry.objects.count(), JournalLine.objects.count()
    with pytest.raises(DomainError, match=message):
        ledger_services.post_adjustment(
            actor=users["finance"], period=OPEN, memo="x", lines=lines(*bad)
        )
    assert (JournalEntry.objects.count(), JournalLine.objects.count()) == before


def test_adjustment_needs_finance_and_a_memo(users):
    good = lines(("1000", "1.00", "0", "EUR"), ("9900", "0", "1.00", "EUR"))
    with pytest.raises(PermissionDenied):
        ledger_services.post_adjustment(actor=users["manager"], period=OPEN, memo="x", lines=good)
    with pytest.raises(DomainError, match="memo"):
        ledger_services.post_adjustment(actor=users["finance"], period=OPEN, memo=" ", lines=good)


def test_posted_rows_are_immutable():
    entry = JournalEntry.objects.first()
    line = entry.lines.first()
    entry.memo = "changed"
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()
    line.debit = D("1")
    with pytest.raises(ImmutableError):
        line.save()
    with pytest.raises(ImmutableError):
        line.delete()
    with pytest.raises(ImmutableError):
        JournalLine.objects.filter(pk=line.pk).update(debit=D("1"))
    with pytest.raises(ImmutableError):
        JournalEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.memo != "changed"


def test_reversal_mirrors_an_entry(users):
    original = JournalEntry.objects.filter(kind="close").first()
    reversal = ledger_services.reverse_entry(
        actor=users["finance"], entry=original, period=OPEN, reason="wrong quantity"
    )
    assert reversal.reverses == original
    mirror = {(ln.account_id, ln.credit, ln.debit) for ln in original.lines.all()}
    assert {(ln.account_id, ln.debit, ln.credit) for ln in reversal.lines.all()} == mirror
    assert verify_ledger()["ok"]


def _sneak_unbalanced_entry():
    """Write an unbalanced entry behind the services' back (as a bug or a manual SQL would)."""
    accounts = posting.accounts()
    entry = JournalEntry.objects.bulk_create(
        [JournalEntry(period=OPEN, date=dt.date(2026, 11, 2), kind="adjustment", memo="bad")]
    )[0]
    JournalLine.objects.bulk_create(
        [
            JournalLine(entry=entry, account=accounts["cash"], debit=D("5.00"), currency="EUR"),
            JournalLine(entry=entry, account=accounts["revenue"], credit=D("4.00"), currency="EUR"),
        ]
    )
    return entry


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_verify_finds_an_unbalanced_entry_and_the_command_exits_non_zero(capsys):
    assert verify_ledger()["ok"]
    assert main(["ledger", "verify"]) == 0
    entry = _sneak_unbalanced_entry()
    result = verify_ledger()
    assert not result["ok"] and result["checks"]["entries_balance_per_currency"] == 1
    assert any(entry.number in v for v in result["violations"])
    capsys.readouterr()
    assert main(["ledger", "verify", "--json"]) == 1
    assert '"ok": false' in capsys.readouterr().out


def test_verify_finds_a_tampered_invoice():
    from servicebook.finance.billing.models import Invoice

    invoice = Invoice.objects.filter(period="2026-10").first()
    Invoice.objects.filter(pk=invoice.pk).update(
        gross=invoice.gross + 1,
        total=invoice.total + 1,
        total_incl_tax=invoice.total_incl_tax + 1,
        cash_amount=invoice.cash_amount + 1,
    )
    result = verify_ledger()
    assert not result["ok"] and result["checks"]["invoices_consistent"] >= 1


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="trigger exists on PostgreSQL only")
def test_postgresql_trigger_refuses_an_unbalanced_entry_at_commit():
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        _sneak_unbalanced_entry()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT does
    assert not JournalEntry.objects.filter(memo="bad").exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="trigger exists on PostgreSQL only")
def test_postgresql_refuses_updates_of_posted_lines():
    line = JournalLine.objects.first()
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE finance_journalline SET debit = debit WHERE id = %s", [line.pk])


def test_sqlite_has_no_trigger_and_relies_on_verify():
    if connection.vendor == "postgresql":
        assert triggers.database_enforces_balance()
    else:
        assert not triggers.database_enforces_balance()


def test_verify_and_journal_export_api_are_finance_and_admin_only(users, client_for):
    staff = client_for(users["finance"])
    body = staff.get(reverse("journalentry-verify")).json()
    assert body["ok"] is True
    for role in ("internal", "external", "manager"):
        client = client_for(users[role])
        assert client.get(reverse("journalentry-verify")).status_code == 403
        assert client.get(reverse("journalentry-list")).status_code == 403
        assert client.get(reverse("account-list")).status_code == 403


def test_adjustment_through_the_api(users, client_for):
    payload = {
        "period": OPEN,
        "memo": "api fix",
        "lines": [
            {"account": "1000", "debit": "2.00", "currency": "EUR"},
            {"account": "9900", "credit": "2.00", "currency": "EUR"},
        ],
    }
    assert (
        client_for(users["manager"])
        .post(reverse("journalentry-adjust"), payload, format="json")
        .status_code
        == 403
    )
    bad = {**payload, "lines": [{**payload["lines"][0]}, {**payload["lines"][1], "credit": "1.00"}]}
    before = JournalEntry.objects.count()
    response = client_for(users["finance"]).post(reverse("journalentry-adjust"), bad, format="json")
    assert response.status_code == 400 and "balance" in response.json()["detail"]
    assert JournalEntry.objects.count() == before
    ok = client_for(users["finance"]).post(reverse("journalentry-adjust"), payload, format="json")
    assert ok.status_code == 201 and len(ok.json()["lines"]) == 2


def test_journal_csv_export(users, web_for):
    response = web_for(users["finance"]).get(reverse("finance:journal-csv") + "?period=2026-10")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.splitlines()[0].startswith("entry,period,date")
    assert "7900" in text and "1150" in text
    assert web_for(users["external"]).get(reverse("finance:journal-csv")).status_code == 403


def test_an_adjustment_into_a_month_not_begun_is_refused_and_opens_nothing(users):
    from servicebook.finance.ledger.models import Period

    before = JournalEntry.objects.count()
    with pytest.raises(DomainError, match="has not begun"):
        ledger_services.post_adjustment(
            actor=users["finance"],
            period="2099-01",
            memo="typo",
            lines=lines(("1000", "1.00", "0", "EUR"), ("9900", "0", "1.00", "EUR")),
        )
    assert JournalEntry.objects.count() == before
    assert not Period.objects.filter(period="2099-01").exists()


def test_an_adjustment_for_a_customer_is_in_its_currency(users):
    from servicebook.parties.models import Customer

    marketing = Customer.objects.get(code="marketing")
    with pytest.raises(DomainError, match="is in EUR, not JPY"):
        ledger_services.post_adjustment(
            actor=users["finance"],
            period=OPEN,
            memo="wrong currency",
            customer=marketing,
            lines=lines(("9900", "10", "0", "JPY"), ("8900", "0", "10", "JPY")),
        )


def test_the_command_line_verification_is_recorded_for_the_ledger_page(users, web_for, capsys):
    """``servicebook ledger verify`` (nightly from cron) is kept as a ledger verification job,
    so the ledger page says when the ledger was last verified without anyone pressing a button."""
    from servicebook.core.models import Job, JobStatus
    from servicebook.finance.job_names import VERIFY_LEDGER

    assert main(["ledger", "verify", "--json"]) == 0
    assert '"ok": true' in capsys.readouterr().out
    job = Job.objects.get(kind=VERIFY_LEDGER)
    assert job.status == JobStatus.SUCCEEDED and job.user is None and job.summary["ok"]
    page = web_for(users["finance"]).get(reverse("finance:ledger"))
    assert page.context["verify"]["current"] and "Ledger verified" in page.content.decode()


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_violation_found_on_the_command_line_is_recorded_and_shown(users, web_for, capsys):
    from servicebook.core.models import Job, JobStatus
    from servicebook.finance.job_names import VERIFY_LEDGER

    entry = _sneak_unbalanced_entry()
    assert main(["ledger", "verify"]) == 1
    assert entry.number in capsys.readouterr().err
    job = Job.objects.get(kind=VERIFY_LEDGER)
    assert job.status == JobStatus.SUCCEEDED and not job.summary["ok"]
    page = web_for(users["finance"]).get(reverse("finance:ledger")).content.decode()
    assert "found problems" in page and entry.number in page
