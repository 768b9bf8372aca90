from django.contrib import admin

from servicebook.finance.models import (
    Account,
    AllocationRule,
    AllocationShare,
    CostPool,
    Invoice,
    InvoiceLine,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
    PriceFloorOverride,
    ServiceCost,
    Statement,
    StatementLine,
    UnitCost,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Documents and ledger rows are written by services only: the admin only shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JournalLineInline(ReadOnlyInline):
    model = JournalLine


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["number", "period", "date", "kind", "memo", "customer"]
    list_filter = ["kind", "period"]
    inlines = [JournalLineInline]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "type", "purpose", "cost_centre"]


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


@admin.register(Period)
class PeriodAdmin(ReadOnlyAdmin):
    list_display = ["period", "status", "closed_at", "closed_by"]


@admin.register(CostPool)
class CostPoolAdmin(ReadOnlyAdmin):
    list_display = ["period", "category", "name", "amount", "currency", "source"]
    list_filter = ["period", "category"]


class AllocationShareInline(ReadOnlyInline):
    model = AllocationShare


@admin.register(AllocationRule)
class AllocationRuleAdmin(ReadOnlyAdmin):
    list_display = ["category", "driver", "note"]
    inlines = [AllocationShareInline]


@admin.register(ServiceCost)
class ServiceCostAdmin(ReadOnlyAdmin):
    list_display = ["period", "service", "allocated", "idle", "total", "currency"]


@admin.register(UnitCost)
class UnitCostAdmin(ReadOnlyAdmin):
    list_display = ["period", "offering", "quantity", "cost", "unit_cost", "currency"]


@admin.register(PriceFloorOverride)
class PriceFloorOverrideAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "offering", "reason", "recorded_by", "recorded_at"]
