"""Reads of the ledger: balances per account and currency."""

from __future__ import annotations

from django.db.models import Sum

from servicebook.finance.ledger.models import JournalLine


def balances(*, period: str | None = None) -> list[dict]:
    """Debit, credit and balance per account and currency (optionally for one period)."""
    lines = JournalLine.objects.all()
    if period:
        lines = lines.filter(entry__period=period)
    rows = (
        lines.values("account_id", "account__code", "account__name", "account__type", "currency")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by("account__code", "currency")
    )
    return [
        {
            "account": row["account__code"],
            "name": row["account__name"],
            "type": row["account__type"],
            "currency": row["currency"],
            "debit": row["debit"],
            "credit": row["credit"],
            "balance": row["debit"] - row["credit"],
        }
        for row in rows
    ]
