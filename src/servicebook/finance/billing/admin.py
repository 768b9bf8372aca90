"""Admin of billing's documents (read only: they are written by services)."""

from django.contrib import admin

from servicebook.finance.billing.models import (
    Invoice,
    InvoiceLine,
    Payment,
    Statement,
    StatementLine,
)
from servicebook.finance.ledger.admin import ReadOnlyAdmin, ReadOnlyInline


class StatementLineInline(ReadOnlyInline):
    model = StatementLine


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["number", "period", "customer", "funding_model", "total_cost", "recovered"]
    list_filter = ["period", "funding_model"]
    inlines = [StatementLineInline]


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "period",
        "customer",
        "total",
        "cash_amount",
        "in_kind_amount",
        "status",
    ]
    list_filter = ["period", "status"]
    inlines = [InvoiceLineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "kind", "amount", "currency", "date", "reference"]
