"""Gapless document numbers: one series per kind of document and year (INV-2026-00001,
CN-2026-00001), taken inside the transaction that issues the documents.

The counter row is incremented by one ``UPDATE … SET last = last + n``: PostgreSQL locks the row
until the transaction ends (a second close waits, then continues after the first one's numbers),
SQLite serializes writers; a rolled-back transaction gives its numbers back, so numbers never
repeat or skip (decision 0026).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F

from servicebook.finance.billing.legal_models import DocumentSequence

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def format_number(series: str, year: int, sequence: int) -> str:
    return f"{series}-{year}-{sequence:05d}"


def allocate(series: str, year: int, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers of ``series`` in ``year``; the first one.

    Must run inside the transaction that writes the documents (so a failure returns them)."""
    if not connection.in_atomic_block:
        raise RuntimeError("document numbers are taken inside the issuing transaction")
    if count < 1:
        raise ValueError("count must be at least 1")
    with transaction.atomic():
        DocumentSequence.objects.bulk_create(
            [DocumentSequence(series=series, year=year)], ignore_conflicts=True
        )
        row = DocumentSequence.objects.filter(series=series, year=year)
        row.update(last=F("last") + count)  # takes the row's lock until the transaction ends
        last = row.values_list("last", flat=True).get()
    return last - count + 1


def peek(series: str, year: int) -> int:
    """The next number of the series, without taking it (dry runs show provisional numbers)."""
    last = (
        DocumentSequence.objects.filter(series=series, year=year)
        .values_list("last", flat=True)
        .first()
    )
    return (last or 0) + 1
