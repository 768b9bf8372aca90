"""CSV exports of the ledger: the journal, one row per line, for the organization's ERP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from servicebook.finance.ledger.models import JournalLine


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()


def journal_csv(lines=None) -> str:
    """The journal, one row per line, for the organization's ERP."""
    lines = lines if lines is not None else JournalLine.objects.all()
    header = [
        "entry",
        "period",
        "date",
        "kind",
        "memo",
        "account",
        "account_name",
        "debit",
        "credit",
        "currency",
        "customer",
        "cost_centre",
    ]
    rows = (
        [
            line.entry.number,
            line.entry.period,
            line.entry.date,
            line.entry.kind,
            line.entry.memo,
            line.account.code,
            line.account.name,
            line.debit,
            line.credit,
            line.currency,
            line.customer.code if line.customer else "",
            line.account.cost_centre,
        ]
        for line in lines.select_related("entry", "account", "customer")
        .order_by("entry", "pk")
        .iterator(chunk_size=5000)
    )
    return to_csv(header, rows)
