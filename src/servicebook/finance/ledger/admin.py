"""Admin of the ledger (read only: rows are written by services), and the read-only bases every
finance admin uses."""

from django.contrib import admin

from servicebook.finance.fx.models import ExchangeRate
from servicebook.finance.ledger.models import Account, JournalEntry, JournalLine, Period


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


@admin.register(Period)
class PeriodAdmin(ReadOnlyAdmin):
    list_display = ["period", "status", "closed_at", "closed_by"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    """Exchange rates (written by the fx services: the rates page, the API, the CLI)."""

    list_display = ["date", "base", "currency", "rate", "source", "entered_by"]
    list_filter = ["currency", "source"]
