"""An adjustment's submission key sent twice at the same moment (PostgreSQL, two threads).

Its own module, like every test whose writers run in threads: such a test is transactional (the
threads' commits are real; the database is emptied at its end and the demo loaded back), and a
module-level ``django_db`` marker beside it only hides that."""

from __future__ import annotations

import pytest
from django.db import connection  # noqa: F401 - read by the skipif condition

from servicebook.finance.ledger import services
from servicebook.finance.ledger.models import JournalEntry
from servicebook.finance.ledger.verify import verify as verify_ledger
from tests.at_once import at_once


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite's shared in-memory test database cannot run two writers in threads",
)
def test_the_same_key_sent_twice_at_once_posts_one_adjustment(transactional_db):
    """Both requests arrive together (a double click on a slow line): the period's row lock makes
    the second wait, then find the first's entry under the same key."""
    from servicebook.core.models import User

    finance = User.objects.get(username="finance")
    before = JournalEntry.objects.count()

    def post():
        return services.post_adjustment(
            actor=finance,
            period="2026-11",
            memo="double click",
            lines=[
                {"account": "1100", "debit": "10.00", "currency": "EUR"},
                {"account": "4000", "credit": "10.00", "currency": "EUR"},
            ],
            request_key="same-key",
        )

    entries = at_once(post, post)
    assert sorted(entry.repeated for entry in entries) == [False, True]
    assert len({entry.number for entry in entries}) == 1
    assert JournalEntry.objects.count() == before + 1
    assert verify_ledger()["ok"]


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite's shared in-memory test database cannot run two writers in threads",
)
def test_the_same_key_for_two_months_at_once_posts_one_and_refuses_the_other(transactional_db):
    """Two months' locks do not meet: the key's unique index does, and the second submission is
    refused with its reason (not a server error)."""
    from servicebook.core.errors import DomainError
    from servicebook.core.models import User

    finance = User.objects.get(username="finance")
    before = JournalEntry.objects.count()

    def post(period):
        def run():
            try:
                return services.post_adjustment(
                    actor=finance,
                    period=period,
                    memo="one key, two months",
                    lines=[
                        {"account": "1100", "debit": "10.00", "currency": "EUR"},
                        {"account": "4000", "credit": "10.00", "currency": "EUR"},
                    ],
                    request_key="two-months",
                )
            except DomainError as error:
                return error

        return run

    outcomes = at_once(post("2026-11"), post("2026-12"))
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1 and refused[0].code == "key_reused", outcomes
    assert "send a new key" in refused[0].message
    assert JournalEntry.objects.count() == before + 1
    assert verify_ledger()["ok"]
