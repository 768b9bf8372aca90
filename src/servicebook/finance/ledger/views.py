"""The ledger's pages (balances, entries, verify, the journal as CSV: finance and the provider
admin only), and the small helpers every finance page shares."""

from __future__ import annotations

from django.http import HttpResponse
from django.views import View
from django.views.generic import TemplateView

from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.finance.ledger import access
from servicebook.finance.ledger.export import journal_csv
from servicebook.finance.ledger.filters import JournalEntryFilter
from servicebook.finance.ledger.models import JournalEntry, JournalLine
from servicebook.finance.ledger.selectors import balances
from servicebook.finance.ledger.tables import JournalEntryTable
from servicebook.finance.ledger.verify import verify
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin


def is_finance(user) -> bool:
    return is_provider_staff(user) and has_role(user, Role.FINANCE)


def download(content, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class LedgerReaderRequiredMixin(RoleRequiredMixin):
    """The ledger's pages: finance and the provider admin only (403 with the reason for others)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            access.require_ledger_reader(request.user)
        return super().dispatch(request, *args, **kwargs)


class LedgerView(LedgerReaderRequiredMixin, TemplateView):
    template_name = "finance/ledger.html"

    def get_context_data(self, **kwargs):
        period = self.request.GET.get("period") or ""
        entries = (
            JournalEntry.objects.visible_to(self.request.user)
            .select_related("customer")
            .order_by("-pk")
        )
        if period:
            entries = entries.filter(period=period)
        return super().get_context_data(
            period=period,
            balances=balances(period=period or None),
            entries=entries.prefetch_related("lines__account")[:50],
            verify=verify(),
            **kwargs,
        )


class JournalEntryListView(LedgerReaderRequiredMixin, ListPage):
    """Every journal entry (finance and the provider admin): filters, sorting, CSV/XLSX."""

    title = "Journal entries"
    table_class = JournalEntryTable
    filterset_class = JournalEntryFilter
    template_name = "finance/entry_list.html"

    def get_queryset(self):
        return (
            JournalEntry.objects.visible_to(self.request.user)
            .select_related("customer")
            .prefetch_related("lines__account")
        )


class JournalCsvView(LedgerReaderRequiredMixin, View):
    def get(self, request):
        lines = JournalLine.objects.visible_to(request.user)
        if period := request.GET.get("period"):
            lines = lines.filter(entry__period=period)
        return download(journal_csv(lines), "journal.csv", "text/csv")
