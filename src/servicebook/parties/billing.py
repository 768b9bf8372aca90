"""What parties asks about a customer's billing documents (R16, the currency lock).

Invoices and statements live in the finance app, which builds on parties: parties may not import
it (that would be an import cycle). The finance app plugs in through Django's app registry
instead (see docs/decisions/0008-customer-rules-across-apps.md): the models are looked up by
label at call time, and :func:`check_plug_in` (run from ``PartiesConfig.ready()``) makes a
missing or renamed field fail at start-up, never silently at run time.

Without the finance app installed, a customer has no billing documents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from servicebook import ports
from servicebook.core.periods import period_dates

FINANCE = "finance"
#: The fields of finance's documents these questions read.
INVOICE_FIELDS = ("customer", "number", "currency", "due_date", "status")
STATEMENT_FIELDS = ("customer", "number", "currency", "period", "recovered", "posted")
PAID = "paid"


@dataclass(frozen=True)
class OverdueDocument:
    number: str
    kind: str  # "invoice" | "statement"
    due: dt.date


def _model(name: str):
    if not apps.is_installed(f"servicebook.{FINANCE}"):
        return None
    return apps.get_model(FINANCE, name)


def check_plug_in() -> None:
    """Fail at start-up when the finance documents no longer have the fields read here."""
    for name, fields in (("Invoice", INVOICE_FIELDS), ("Statement", STATEMENT_FIELDS)):
        model = _model(name)
        if model is None:
            continue
        names = {field.name for field in model._meta.get_fields()}
        missing = [field for field in fields if field not in names]
        if missing:
            raise ImproperlyConfigured(
                f"parties.billing reads finance.{name}.{', '.join(missing)}: update it"
            )


def overdue_documents(customer, *, today: dt.date) -> list[OverdueDocument]:
    """The customer's documents still unpaid after their due date.

    An invoice is overdue when it is not paid and its due date has passed. A statement (an
    internal customer's charge, e.g. under chargeback) is overdue when it recovers an amount
    from the customer, that amount was never posted (transferred), and its month has ended.
    """
    found: list[OverdueDocument] = []
    invoice = _model("Invoice")
    if invoice is not None:
        rows = (
            invoice.objects.filter(customer=customer, due_date__lt=today)
            .exclude(status=PAID)
            .values_list("number", "due_date")
        )
        found += [OverdueDocument(number, "invoice", due) for number, due in rows]
    statement = _model("Statement")
    if statement is not None:
        rows = statement.objects.filter(
            customer=customer, posted=False, recovered__gt=0
        ).values_list("number", "period")
        for number, period in rows:
            due = period_dates(period)[1]
            if due < today:
                found.append(OverdueDocument(number, "statement", due))
    return sorted(found, key=lambda doc: (doc.due, doc.number))


def invoice_currencies(customer) -> set[str]:
    """The currencies of the invoices already issued to the customer."""
    invoice = _model("Invoice")
    if invoice is None:
        return set()
    return set(invoice.objects.filter(customer=customer).values_list("currency", flat=True))


# --- consumption at cost (one selector, in finance) -----------------------------------------------


def consumption_at_cost(customers, period: str) -> dict:
    """Each customer's consumption at cost for ``period``, answered by the finance app through
    ``servicebook.ports.consumption_at_cost`` (the closed statement's cost, else an estimate
    from the agreements and what is known): parties never computes it."""
    return ports.consumption_at_cost(customers, period)
