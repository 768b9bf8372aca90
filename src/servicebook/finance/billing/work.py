"""What waits for finance in billing (``ports.work_items``): overdue invoices to chase."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from servicebook.core.roles import Role, roles_of
from servicebook.finance.billing.models import Invoice, InvoiceStatus
from servicebook.notifications.kinds import Kind
from servicebook.notifications.work import since
from servicebook.ports import WorkItem


def work_for(user) -> list[WorkItem]:
    """For finance and the provider admin: every external invoice unpaid after its due date."""
    if user.customer_id is not None or not roles_of(user) & {Role.FINANCE, Role.PROVIDER_ADMIN}:
        return []
    today = timezone.localdate()
    overdue = (
        Invoice.objects.filter(due_date__lt=today)
        .exclude(status=InvoiceStatus.PAID)
        .select_related("customer")
        .only("pk", "number", "due_date", "customer__name")
    )
    return [
        WorkItem(
            Kind.OVERDUE_INVOICE,
            f"Chase invoice {invoice.number}: due {invoice.due_date:%d %b %Y}",
            reverse("finance:invoice", args=[invoice.pk]),
            since(invoice.due_date),
            invoice.customer.name,
        )
        for invoice in overdue
    ]
