"""A credit note's submission key sent twice at the same moment (PostgreSQL, two threads).

Its own module, like every test whose writers run in threads: such a test is transactional (the
threads' commits are real; the database is emptied at its end and the demo loaded back), and a
module-level ``django_db`` marker beside it only hides that."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from servicebook.finance.billing import credit_notes
from servicebook.finance.billing.legal_models import CreditNote
from servicebook.finance.billing.models import Invoice
from servicebook.finance.ledger.verify import verify as verify_ledger
from tests.at_once import at_once

DAY = dt.date(2026, 11, 25)


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite's shared in-memory test database cannot run two writers in threads",
)
def test_the_same_key_sent_twice_at_once_issues_one_credit_note(transactional_db):
    """Both requests arrive together (a double click on a slow line): the invoice's row lock makes
    the second wait, then find the first's credit note under the same key."""
    from servicebook.core.models import User

    finance = User.objects.get(username="finance")
    invoice = Invoice.objects.get(period="2026-10", customer__code="meridian")

    def issue():
        return credit_notes.issue_credit_note(
            actor=finance,
            invoice=invoice,
            amount="10.00",
            reason="double click",
            date=DAY,
            request_key="same-key",
        )

    notes = at_once(issue, issue)
    assert sorted(note.repeated for note in notes) == [False, True]
    assert len({note.number for note in notes}) == 1
    assert CreditNote.objects.filter(invoice=invoice).count() == 1
    assert verify_ledger()["ok"]
