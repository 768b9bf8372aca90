"""What parties asks finance about a customer (R16 non-payment, the currency lock, R19).

Invoices and statements live in the finance app, which builds on parties: parties may not import
it. Finance answers through the ports ``billing_documents`` and ``consumption_at_cost`` (see
``servicebook/ports.py`` and docs/architecture.md), plugged in from ``FinanceConfig.ready()``;
a missing provider stops the start-up.
"""

from __future__ import annotations

import datetime as dt

from servicebook import ports
from servicebook.ports import OverdueDocument

__all__ = ["OverdueDocument", "consumption_at_cost", "invoice_currencies", "overdue_documents"]


def overdue_documents(customer, *, today: dt.date) -> list[OverdueDocument]:
    """The customer's documents still unpaid after their due date (an invoice past its due
    date; a statement that recovers an amount, never posted, whose month has ended)."""
    return ports.billing_documents.get().overdue_documents(customer, today=today)


def invoice_currencies(customer) -> set[str]:
    """The currencies of the invoices already issued to the customer."""
    return ports.billing_documents.get().invoice_currencies(customer)


def consumption_at_cost(customers, period: str, *, scope=None) -> dict:
    """Each customer's consumption at cost for ``period`` (the closed statement's cost, else an
    estimate from the agreements and what is known): parties never computes it. ``scope``: the
    same customers as a queryset of ids (a subquery), for long lists."""
    return ports.consumption_at_cost(customers, period, scope=scope)
