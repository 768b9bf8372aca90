"""The months of the books: a period's dates, its row, and its lock.

A closed period takes no more postings (corrections are adjustments in an open period) and its
costs and usage no longer change.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from servicebook.core import periods
from servicebook.core.errors import DomainError
from servicebook.finance.ledger.models import Period, PeriodStatus


def check_period(period: str) -> str:
    """:func:`servicebook.core.periods.check_period` as the services' error (field ``period``)."""
    try:
        return periods.check_period(period)
    except periods.PeriodError as error:
        raise DomainError(str(error), field="period") from None


def today() -> dt.date:
    return timezone.localdate()


def open_period_row(period: str) -> Period:
    """The period's row, created open if missing (concurrent creators: one row).

    The insert comes first (ON CONFLICT DO NOTHING): on SQLite a transaction that starts with a
    write waits for the other writer instead of failing on a read-to-write upgrade.
    """
    with transaction.atomic():
        Period.objects.bulk_create([Period(period=period)], ignore_conflicts=True)
    return Period.objects.get(period=period)


def require_open(period: str) -> None:
    if Period.objects.filter(period=period, status=PeriodStatus.CLOSED).exists():
        raise DomainError(
            f"period {period} is closed: post the correction as an adjustment in an open period",
            code="period_closed",
            field="period",
        )


def closed_periods() -> set[str]:
    return set(Period.objects.filter(status=PeriodStatus.CLOSED).values_list("period", flat=True))
