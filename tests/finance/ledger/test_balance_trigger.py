"""PostgreSQL's balance check (migration 0010): the entries a transaction gives lines to are
queued by a statement-level trigger and checked once, set-based, at commit (here: at ``SET
CONSTRAINTS ALL IMMEDIATE``, what COMMIT does); it refuses whatever the row-level check refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, connection, transaction

from servicebook.finance.ledger import posting
from servicebook.finance.ledger.models import JournalEntry, JournalLine

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's trigger"),
]


def _entry(memo: str = "t") -> JournalEntry:
    return JournalEntry.objects.bulk_create(
        [JournalEntry(period="2026-11", date=dt.date(2026, 11, 2), kind="adjustment", memo=memo)]
    )[0]


def _line(entry, purpose: str, *, debit=D(0), credit=D(0), base=True) -> JournalLine:
    account = posting.accounts()[purpose]
    extra = {"base_debit": debit, "base_credit": credit} if base else {}
    return JournalLine(
        entry=entry, account=account, debit=debit, credit=credit, currency="EUR", **extra
    )


def _commit_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _queued() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM finance_journal_unchecked")
        return cursor.fetchone()[0]


def test_an_entry_balanced_by_a_later_statement_is_accepted_and_the_queue_emptied():
    entry = _entry()
    JournalLine.objects.bulk_create([_line(entry, "cash", debit=D("5.00"))])
    JournalLine.objects.bulk_create([_line(entry, "revenue", credit=D("5.00"))])
    assert _queued() == 1
    _commit_check()
    assert _queued() == 0


def test_one_unbalanced_entry_among_many_in_one_statement_is_refused_by_number():
    entries = [_entry(f"e{i}") for i in range(50)]
    rows = [_line(e, "cash", debit=D("2.00")) for e in entries]
    rows += [_line(e, "revenue", credit=D("2.00")) for e in entries]
    rows[-1].credit = rows[-1].base_credit = D("1.99")
    refused = rf"entry {entries[-1].pk} does not balance in EUR"
    with pytest.raises(DatabaseError, match=refused), transaction.atomic():
        JournalLine.objects.bulk_create(rows)
        _commit_check()


def test_a_line_added_to_an_entry_already_checked_is_checked_again():
    entry = _entry()
    JournalLine.objects.bulk_create(
        [_line(entry, "cash", debit=D("3.00")), _line(entry, "revenue", credit=D("3.00"))]
    )
    _commit_check()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        JournalLine.objects.bulk_create([_line(entry, "cash", debit=D("1.00"))])
        _commit_check()


def test_with_constraints_immediate_the_statement_itself_is_refused():
    _commit_check()
    entry = _entry()
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        JournalLine.objects.bulk_create([_line(entry, "cash", debit=D("1.00"))])


def test_an_entry_unbalanced_in_the_base_currency_is_refused():
    entry = _entry()
    debit, credit = _line(entry, "cash", debit=D("5.00")), _line(entry, "revenue", credit=D("5.00"))
    credit.base_credit = D("4.99")
    with pytest.raises(DatabaseError, match="base currency"), transaction.atomic():
        JournalLine.objects.bulk_create([debit, credit])
        _commit_check()


def test_lines_of_a_rolled_back_savepoint_leave_nothing_queued():
    with pytest.raises(RuntimeError), transaction.atomic():
        entry = _entry()
        JournalLine.objects.bulk_create([_line(entry, "cash", debit=D("1.00"))])
        raise RuntimeError
    assert _queued() == 0
    _commit_check()  # nothing unbalanced left behind
