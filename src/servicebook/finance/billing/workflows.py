"""The invoice's life, declared once (``core.workflow``): issued by the period close, then
partially paid (as often as payments or in-kind deliveries leave something outstanding) and paid
(by payments, or by a credit note that leaves nothing to pay).
A paid invoice never changes again; reminders and suspensions are events, not steps."""

from __future__ import annotations

from servicebook.core.workflow import Workflow, register
from servicebook.finance.billing.models import Invoice, InvoiceEvent, InvoiceStatus

S = InvoiceStatus

INVOICE = register(
    Workflow(
        what="invoice",
        model=Invoice,
        transitions={
            S.ISSUED: {S.PARTIALLY_PAID, S.PAID},
            S.PARTIALLY_PAID: {S.PARTIALLY_PAID, S.PAID},
            S.PAID: set(),
        },
        initial={S.ISSUED},
        event_model=InvoiceEvent,
        subject_field="invoice",
        name=lambda invoice: invoice.number,
    )
)
