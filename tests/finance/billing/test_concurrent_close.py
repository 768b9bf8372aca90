"""Two closes of the same period at once: one wins, none doubles (PostgreSQL row lock)."""

from __future__ import annotations

import pytest
from django.db import connection

from servicebook.finance.billing import services
from servicebook.finance.billing.models import Statement
from servicebook.finance.ledger.models import JournalEntry
from tests.at_once import at_once

PERIOD = "2026-08"


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite's shared in-memory test database cannot run two writers in threads",
)
def test_two_closes_at_once_one_wins_none_doubles(transactional_db):
    from servicebook.core.models import User

    finance = User.objects.get(username="finance")

    def close():
        return services.close_period(actor=finance, period=PERIOD, earlier_reason="race")

    results = at_once(close, close)
    assert sorted(r["changed"] for r in results) == [False, True]
    assert Statement.objects.filter(period=PERIOD).count() == 4
    memos = list(JournalEntry.objects.filter(period=PERIOD).values_list("memo", flat=True))
    assert len(memos) == len(set(memos))
    assert connection.vendor == "postgresql"


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite's shared in-memory test database cannot run two writers in threads",
)
def test_two_closes_of_different_months_never_share_or_skip_an_invoice_number(transactional_db):
    """Decision 0026: both closes take numbers of the 2026 invoice series at once; the series'
    row lock makes one wait for the other, so the numbers stay one gapless run."""
    import datetime as dt

    from servicebook.core.models import User
    from servicebook.finance.billing.models import Invoice

    finance = User.objects.get(username="finance")

    def close(period):
        return lambda: services.close_period(
            actor=finance, period=period, earlier_reason="race", today=dt.date(2026, 12, 1)
        )

    at_once(close("2026-07"), close("2026-08"))
    sequences = sorted(Invoice.objects.filter(fiscal_year=2026).values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    assert Invoice.objects.filter(period__in=["2026-07", "2026-08"]).count() >= 2
