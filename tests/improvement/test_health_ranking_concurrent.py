"""Two rankings of one period at once (PostgreSQL): both read, they replace the rows one after
the other (the period row's lock); one ranking, every customer once."""

from __future__ import annotations

import pytest
from django.db import connection

from servicebook.improvement import ranking
from servicebook.improvement.models import HealthRank, HealthRanking
from tests.at_once import at_once

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two rankers in threads need PostgreSQL"
)


def test_two_rankings_of_a_period_at_once_keep_one(transactional_db):
    at_once(lambda: ranking.rank("2026-10"), lambda: ranking.rank("2026-10"))
    kept = HealthRanking.objects.get(period="2026-10")
    assert not kept.stale and ranking.current("2026-10") == kept
    assert HealthRank.objects.filter(ranking=kept).count() == kept.customers > 0
    customers = HealthRank.objects.filter(ranking=kept).values_list("customer", flat=True)
    assert len(set(customers)) == kept.customers
