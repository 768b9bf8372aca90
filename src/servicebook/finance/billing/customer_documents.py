"""What parties asks finance about a customer's billing documents (R16, the currency lock),
offered through ``servicebook.ports.billing_documents`` from ``FinanceConfig.ready()``."""

from __future__ import annotations

import datetime as dt

from servicebook.core.periods import period_dates
from servicebook.finance.billing.models import Invoice, InvoiceStatus, Statement
from servicebook.ports import OverdueDocument


def overdue_documents(customer, *, today: dt.date) -> list[OverdueDocument]:
    """The customer's documents still unpaid after their due date.

    An invoice is overdue when it is not paid and its due date has passed. A statement (an
    internal customer's charge, e.g. under chargeback) is overdue when it recovers an amount
    from the customer, that amount was never posted (transferred), and its month has ended.
    """
    rows = (
        Invoice.objects.filter(customer=customer, due_date__lt=today)
        .exclude(status=InvoiceStatus.PAID)
        .values_list("number", "due_date")
    )
    found = [OverdueDocument(number, "invoice", due) for number, due in rows]
    statements = Statement.objects.filter(
        customer=customer, posted=False, recovered__gt=0
    ).values_list("number", "period")
    for number, period in statements:
        due = period_dates(period)[1]
        if due < today:
            found.append(OverdueDocument(number, "statement", due))
    return sorted(found, key=lambda doc: (doc.due, doc.number))


def invoice_currencies(customer) -> set[str]:
    """The currencies of the invoices already issued to the customer."""
    return set(Invoice.objects.filter(customer=customer).values_list("currency", flat=True))
