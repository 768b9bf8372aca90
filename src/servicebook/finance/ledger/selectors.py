"""Reads of the ledger: balances per account and currency."""

from __future__ import annotations

from django.db.models import Sum

from servicebook.finance.ledger.models import Account, JournalLine


def balances(*, period: str | None = None) -> list[dict]:
    """Debit, credit and balance per account and currency (optionally for one period)."""
    lines = JournalLine.objects.all()
    if period:
        lines = lines.filter(entry__period=period)
    # grouped by account id and currency only (the accounts are few: read apart), so the
    # database sums from the index journal_line_balance without reading a line (issue 14)
    rows = list(
        lines.values("account_id", "currency")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by()
    )
    accounts = {a.pk: a for a in Account.objects.filter(pk__in={r["account_id"] for r in rows})}
    found = [
        {
            "account": accounts[row["account_id"]].code,
            "name": accounts[row["account_id"]].name,
            "type": accounts[row["account_id"]].type,
            "currency": row["currency"],
            "debit": row["debit"],
            "credit": row["credit"],
            "balance": row["debit"] - row["credit"],
        }
        for row in rows
    ]
    return sorted(found, key=lambda row: (row["account"], row["currency"]))
