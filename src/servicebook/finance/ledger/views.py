"""The ledger's pages (balances, entries, verify, the journal as CSV: finance and the provider
admin only), and the small helpers every finance page shares."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.finance.job_names import VERIFY_LEDGER
from servicebook.finance.ledger import access, services
from servicebook.finance.ledger.export import journal_csv
from servicebook.finance.ledger.filters import JournalEntryFilter
from servicebook.finance.ledger.forms import AdjustmentForm, ReversalForm
from servicebook.finance.ledger.models import JournalEntry, JournalLine, Period, PeriodStatus
from servicebook.finance.ledger.periods import today
from servicebook.finance.ledger.selectors import balances
from servicebook.finance.ledger.tables import JournalEntryTable
from servicebook.finance.ledger.verify import last_verification
from servicebook.parties.models import Provider
from servicebook.web.jobs import start_job
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin


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
    """Balances, the latest entries and the last verification's answer with its time (the
    whole-ledger check runs as a job: *Verify now* posts here and queues it)."""

    template_name = "finance/ledger.html"

    def post(self, request):
        return start_job(request, kind=VERIFY_LEDGER, params={}, title="Ledger verification")

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
            verify=last_verification(),
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


def _open_month() -> str:
    """The month a correction goes into by default: this month, unless it is closed."""
    month = f"{today():%Y-%m}"
    closed = Period.objects.filter(period=month, status=PeriodStatus.CLOSED).exists()
    return "" if closed else month


class AdjustmentView(LedgerReaderRequiredMixin, ServiceFormMixin, FormView):
    """Post an adjustment: a new balanced entry with a reason (finance and the provider admin;
    ``post_adjustment`` refuses a closed period, an unbalanced entry or accounts the customer's
    policy does not allow, with its message, and writes nothing then)."""

    form_class = AdjustmentForm
    template_name = "finance/ledger_adjust.html"

    def get_initial(self):
        return {"period": _open_month(), "currency": Provider.current().base_currency}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "search": self.request.GET.get("q", "")}

    def perform(self, data):
        entry = services.post_adjustment(
            actor=self.request.user,
            period=data["period"],
            memo=data["memo"],
            lines=data["lines"],
            customer=data.get("customer"),
            request_key=data.get("request_key"),
        )
        if entry.repeated:
            already = f"Adjustment {entry.number} was posted by this form already."
            messages.info(self.request, already)
        else:
            messages.success(self.request, f"Adjustment {entry.number} posted in {entry.period}.")
        return entry

    def get_success_url(self):
        return f"{reverse('finance:ledger')}?period={self.object.period}"


class ReverseEntryView(LedgerReaderRequiredMixin, ServiceFormMixin, FormView):
    """An entry's page: its lines, its reversals, and the form that reverses it (a new entry with
    debits and credits swapped, in an open period; the entry itself never changes)."""

    form_class = ReversalForm
    template_name = "finance/ledger_reverse.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            access.require_ledger_reader(request.user)
            self.entry = get_object_or_404(
                JournalEntry.objects.visible_to(request.user).select_related(
                    "customer", "posted_by", "reverses"
                ),
                pk=kwargs["pk"],
            )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"period": _open_month()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            entry=self.entry,
            lines=self.entry.lines.select_related("account"),
            reversals=JournalEntry.objects.filter(reverses=self.entry).order_by("pk"),
            **kwargs,
        )

    def perform(self, data):
        reversal = services.reverse_entry(
            actor=self.request.user, entry=self.entry, period=data["period"], reason=data["reason"]
        )
        messages.success(self.request, f"{self.entry.number} reversed by {reversal.number}.")
        return reversal

    def get_success_url(self):
        return reverse("finance:ledger-entry", args=[self.entry.pk])
