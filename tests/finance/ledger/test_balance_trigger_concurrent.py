"""PostgreSQL's balance check (migration 0010) with two writers: the queue of entries to check is
one table for every transaction, and each transaction checks and empties only its own."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, connection, transaction

from servicebook.finance.ledger import posting
from servicebook.finance.ledger.models import JournalEntry, JournalLine
from tests.at_once import at_once
from tests.finance.ledger.test_balance_trigger import _entry, _line, _queued

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's trigger, two writers in threads"
)


def test_two_transactions_posting_at_once_are_each_checked_alone(transactional_db):
    """The queue is one table for every transaction: at commit each checks (and empties) only
    what it queued. A balanced entry and an unbalanced one, written at the same moment and both
    waiting to commit: the first commits, the second alone is refused; nothing stays queued.

    Neither waits on the other before the barrier inside both transactions: the standard accounts
    exist before they start (``posting.accounts()`` creates them on first use, and two first uses
    at once meet on the same account rows: a row conflict, not the queue's)."""
    posting.accounts()
    both_written = threading.Barrier(2)

    def post(memo: str, credit: D):
        def run():
            try:
                with transaction.atomic():
                    entry = _entry(memo)
                    lines = [_line(entry, "cash", debit=D("3.00"))]
                    lines.append(_line(entry, "revenue", credit=credit))
                    JournalLine.objects.bulk_create(lines)
                    both_written.wait(timeout=60)  # both queues filled, neither committed
                return memo, "committed"
            except DatabaseError as error:
                return memo, str(error).splitlines()[0]

        return run

    outcomes = dict(at_once(post("balanced", D("3.00")), post("unbalanced", D("2.00"))))
    assert outcomes["balanced"] == "committed"
    assert "does not balance" in outcomes["unbalanced"], outcomes
    assert JournalEntry.objects.filter(memo="balanced").count() == 1
    assert not JournalEntry.objects.filter(memo="unbalanced").exists()
    assert JournalLine.objects.filter(entry__memo="balanced").count() == 2
    assert _queued() == 0
