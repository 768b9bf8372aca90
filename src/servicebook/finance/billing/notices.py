"""What billing tells people (through notifications): invoices that fell overdue, to chase."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from servicebook.core.money import Money
from servicebook.core.roles import Role
from servicebook.finance.billing.models import Invoice, InvoiceStatus
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with, told_links


def tell_overdue(*, today: dt.date) -> int:
    """Tell finance, once per invoice, about each external invoice unpaid after its due date;
    returns how many invoices were told (run daily: ``servicebook notifications daily``)."""
    told = told_links(Kind.OVERDUE_INVOICE)
    finance = list(staff_with(Role.FINANCE))
    count = 0
    overdue = (
        Invoice.objects.filter(due_date__lt=today)
        .exclude(status=InvoiceStatus.PAID)
        .select_related("customer")
        .order_by("due_date", "number")
    )
    for invoice in overdue:
        link = reverse("finance:invoice", args=[invoice.pk])
        if link in told:
            continue
        notify(
            kind=Kind.OVERDUE_INVOICE,
            recipients=finance,
            message=Message(
                f"Invoice {invoice.number} to {invoice.customer.name} is overdue",
                f"Due {invoice.due_date:%d %b %Y}; outstanding "
                f"{Money(invoice.outstanding, invoice.currency)}.",
                link,
            ),
        )
        count += 1
    return count
