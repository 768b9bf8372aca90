"""Billing's pages: periods, close and receivables, documents and their exports, payments,
reminders, reports with charts, the FOCUS export of charges.

Customer users see their own statements (internal, at cost) or invoices (external, prices only).
Everything else is for provider staff; writes need the finance role (the services check it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView
from django_tables2 import RequestConfig

from servicebook.core.charts import chart_json
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.params import object_id
from servicebook.core.roles import is_provider_staff
from servicebook.finance.billing import access, credit_notes, export, selectors, services, tax
from servicebook.finance.billing.filters import InvoiceFilter, PaymentFilter, StatementFilter
from servicebook.finance.billing.forms import (
    CloseForm,
    CreditNoteForm,
    PaymentForm,
    SuspendForm,
    TaxRateForm,
)
from servicebook.finance.billing.legal_models import CreditNote, TaxRate
from servicebook.finance.billing.models import Invoice, InvoiceStatus, Payment, Statement
from servicebook.finance.billing.tables import InvoiceTable, PaymentTable, StatementTable
from servicebook.finance.job_names import CLOSE_PERIOD
from servicebook.finance.ledger.models import Period
from servicebook.finance.ledger.periods import check_period
from servicebook.finance.ledger.services import FINANCE
from servicebook.finance.ledger.views import download, is_finance
from servicebook.parties.models import Provider
from servicebook.policy import policy_for
from servicebook.web.jobs import start_job
from servicebook.web.lists import PER_PAGE, ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

#: The oldest overdue invoices the finance home lists; the rest are counted (issue 14: at scale
#: every invoice of a late customer base would be drawn on one page).
OVERDUE_SHOWN = 20


class FinanceHomeView(LoginRequiredMixin, TemplateView):
    """Staff: periods, close, receivables. Customer users go to their documents."""

    template_name = "finance/home.html"

    def get(self, request, *args, **kwargs):
        if not is_provider_staff(request.user):
            return redirect("finance:documents")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        invoices = Invoice.objects.select_related("customer")
        overdue_all = selectors.overdue(invoices, today).order_by("due_date", "pk")
        overdue = list(overdue_all[: OVERDUE_SHOWN + 1])
        more = overdue_all.count() - OVERDUE_SHOWN if len(overdue) > OVERDUE_SHOWN else 0
        overdue = overdue[:OVERDUE_SHOWN]
        buckets = selectors.aging(invoices, today)
        return super().get_context_data(
            periods=Period.objects.all()[:24],
            close_form=CloseForm() if is_finance(self.request.user) else None,
            overdue=[(inv, inv.days_overdue(today)) for inv in overdue],
            overdue_more=more,
            aging=buckets,
            aging_chart=chart_json(list(buckets), list(buckets.values()), "Outstanding"),
            is_finance=is_finance(self.request.user),
            today=today,
            **kwargs,
        )


#: the close summary's totals, in words (keys of ``Plan.summary()['totals']``)
TOTAL_LABELS = {
    "internal_cost": "Internal statements at cost",
    "internal_charge": "Internal statements charged",
    "recovered": "Recovered from cost centres",
    "uncovered": "Covered by the budget (subsidy)",
    "revenue_gross": "Invoiced before service credits",
    "service_credits": "Service credits",
    "invoiced": "Invoiced",
    "in_kind": "Of which in kind",
    "cash": "Of which cash",
}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class CloseView(RoleRequiredMixin, FormView):
    """Close a period from the page (finance only): the dry run first (the documents it would
    issue, per customer, and the totals), then a Confirm button; a month earlier than one
    already closed also needs the confirmation box and a reason. The close runs as a job."""

    required_roles = FINANCE
    form_class = CloseForm
    template_name = "finance/close_form.html"

    def get_initial(self):
        return {"period": self.request.GET.get("period", "")}

    def form_valid(self, form):
        period = form.cleaned_data["period"]
        try:
            if self.request.POST.get("action") == "close":
                later = services.later_closed(period)
                if form.check_earlier(later):
                    return start_job(
                        self.request,
                        kind=CLOSE_PERIOD,
                        params={
                            "period": period,
                            "earlier_reason": form.cleaned_data["earlier_reason"].strip(),
                        },
                        title=f"Period close · {period}",
                    )
            result = services.close_period(actor=self.request.user, period=period, dry_run=True)
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except DomainError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=form, result=result))

    def get_context_data(self, **kwargs):
        result = kwargs.get("result")
        if result is not None:
            kwargs["totals"] = [
                (currency, TOTAL_LABELS.get(key, key), value)
                for currency, values in (result.get("totals") or {}).items()
                for key, value in values.items()
            ]
            kwargs["documents"] = [
                {**doc, "issued": _date(doc["issue_date"]), "due": _date(doc["due_date"])}
                for doc in result.get("documents", ())
            ]
            kwargs["closable"] = (
                result["dry_run"] and "documents" in result and not result.get("problems")
            )
        return super().get_context_data(**kwargs)


class InvoiceListView(ListPage):
    """The invoices the user may see: filters, sorting, CSV/XLSX export."""

    title = "Invoices"
    table_class = InvoiceTable
    filterset_class = InvoiceFilter
    template_name = "finance/document_list.html"

    def get_queryset(self):
        return Invoice.objects.visible_to(self.request.user).select_related("customer", "agreement")


class StatementListView(ListPage):
    """The internal statements the user may see: filters, sorting, CSV/XLSX export."""

    title = "Statements"
    table_class = StatementTable
    filterset_class = StatementFilter
    template_name = "finance/document_list.html"

    def get_queryset(self):
        return Statement.objects.visible_to(self.request.user).select_related("customer")


class PaymentListView(ListPage):
    """Payments the user may see: cash and in-kind in columns of their own; CSV/XLSX export."""

    title = "Payments"
    table_class = PaymentTable
    filterset_class = PaymentFilter
    template_name = "finance/document_list.html"

    def get_queryset(self):
        return Payment.objects.visible_to(self.request.user).select_related("invoice__customer")


class DocumentListView(LoginRequiredMixin, TemplateView):
    """Statements and invoices the user may see, by period: the two lists' tables, each linking
    to its full list (filters and exports)."""

    template_name = "finance/documents.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        period = self.request.GET.get("period", "")
        statements = Statement.objects.visible_to(user).select_related("customer")
        invoices = Invoice.objects.visible_to(user).select_related("customer", "agreement")
        if period:
            statements = statements.filter(period=period)
            invoices = invoices.filter(period=period)
        customer = object_id(self.request.GET.get("customer"))
        if customer is not None:
            statements = statements.filter(customer_id=customer)
            invoices = invoices.filter(customer_id=customer)
        tables = {}
        for name, table_class, rows in (
            ("statements", StatementTable, statements),
            ("invoices", InvoiceTable, invoices),
        ):
            table = table_class(rows, prefix=f"{name[:3]}-", exclude=table_class.hidden_for(user))
            tables[name] = RequestConfig(self.request, paginate={"per_page": PER_PAGE}).configure(
                table
            )
        return super().get_context_data(
            statement_table=tables["statements"],
            invoice_table=tables["invoices"],
            period=period,
            # distinct periods, not one row a document (issue 14: 100,000 rows)
            periods=sorted(
                set(statements.order_by().values_list("period", flat=True).distinct())
                | set(invoices.order_by().values_list("period", flat=True).distinct()),
                reverse=True,
            )
            if not period
            else [],
            **kwargs,
        )


class StatementDetailView(LoginRequiredMixin, DetailView):
    template_name = "finance/statement_detail.html"
    context_object_name = "statement"

    def get_queryset(self):
        return Statement.objects.visible_to(self.request.user).select_related("customer", "entry")

    def get_context_data(self, **kwargs):
        st = self.object
        lines = list(st.lines.select_related("service", "offering").order_by("service__name", "pk"))
        by_service: dict[str, Decimal] = {}
        for line in lines:
            by_service[line.service.name] = (
                by_service.get(line.service.name, Decimal(0)) + line.cost
            )
        return super().get_context_data(
            lines=lines,
            by_service=sorted(by_service.items()),
            chart=chart_json(list(by_service), list(by_service.values()), "Cost"),
            entry_lines=st.entry.lines.visible_to(self.request.user).select_related("account")
            if st.entry
            else [],
            **kwargs,
        )


class InvoiceDetailView(LoginRequiredMixin, DetailView):
    template_name = "finance/invoice_detail.html"
    context_object_name = "invoice"

    def get_queryset(self):
        return Invoice.objects.visible_to(self.request.user).select_related(
            "customer", "agreement", "entry"
        )

    def get_context_data(self, **kwargs):
        inv = self.object
        user = self.request.user
        lines = list(inv.lines.select_related("service"))
        today = timezone.localdate()
        finance = is_finance(user)
        staff = is_provider_staff(user)
        return super().get_context_data(
            charge_lines=[line for line in lines if line.kind != "in_kind"],
            in_kind_lines=[line for line in lines if line.kind == "in_kind"],
            payments=inv.payments.all(),
            reminders=inv.reminders.all(),
            events=inv.events.select_related("actor") if staff else [],
            days_overdue=inv.days_overdue(today),
            payment_form=PaymentForm(initial={"date": today, "amount": inv.outstanding_cash})
            if finance and inv.status != InvoiceStatus.PAID
            else None,
            suspend_form=SuspendForm()
            if finance and inv.days_overdue(today) > 0 and inv.customer.status == "active"
            else None,
            entry_lines=inv.entry.lines.visible_to(user).select_related("account")
            if inv.entry
            else [],
            accepts_in_kind=policy_for(inv.customer).accepts_in_kind,
            credit_notes=credit_notes.visible_credit_notes(user, invoice=inv),
            credit_note_form=CreditNoteForm(initial={"date": today}, auto_id="credit_%s")
            if finance and inv.creditable > 0
            else None,
            mentions=[m for m in inv.legal_mentions.splitlines() if m],
            **kwargs,
        )


class _DocumentExport(LoginRequiredMixin, View):
    model = None
    fmt = "csv"

    def get(self, request, pk):
        obj = get_object_or_404(self.model.objects.visible_to(request.user), pk=pk)
        if self.fmt == "csv":
            content = (
                export.statement_csv(obj)
                if isinstance(obj, Statement)
                else export.invoice_csv(obj, request.user)
            )
            return download(content, f"{obj.number}.csv", "text/csv")
        context = {
            "doc": obj,
            "is_invoice": isinstance(obj, Invoice),
            "lines": obj.lines.select_related("service"),
            "provider": obj.customer.provider,
        }
        return download(export.document_pdf(context), f"{obj.number}.pdf", "application/pdf")


class StatementCsvView(_DocumentExport):
    model = Statement


class StatementPdfView(_DocumentExport):
    model = Statement
    fmt = "pdf"


class InvoiceCsvView(_DocumentExport):
    model = Invoice


class InvoicePdfView(_DocumentExport):
    model = Invoice
    fmt = "pdf"


class _EInvoiceView(LoginRequiredMixin, View):
    """An invoice or a credit note as an electronic invoice (decision 0027): UBL for Peppol or
    Factur-X; only documents the user may see."""

    model: type[Invoice] | type[CreditNote] = Invoice
    page = "finance:invoice"
    fmt = "ubl"

    def get(self, request, pk):
        from servicebook.finance.billing.einvoice.document import EInvoiceError
        from servicebook.finance.billing.einvoice.export import render

        document = get_object_or_404(self.model.objects.visible_to(request.user), pk=pk)
        try:
            file = render(document, self.fmt)
        except EInvoiceError as error:
            messages.error(request, f"{document.number} cannot be written as {self.fmt}: {error}")
            return redirect(self.page, pk=document.pk)
        return download(file.content, file.filename, file.content_type)


class InvoiceUblView(_EInvoiceView):
    fmt = "ubl"


class InvoiceFacturxView(_EInvoiceView):
    fmt = "facturx"


class CreditNoteUblView(_EInvoiceView):
    model = CreditNote
    page = "finance:credit-note"
    fmt = "ubl"


class CreditNoteFacturxView(_EInvoiceView):
    model = CreditNote
    page = "finance:credit-note"
    fmt = "facturx"


class _InvoiceActionView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = FINANCE
    template_name = "finance/action_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.invoice = get_object_or_404(Invoice.objects.visible_to(request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(invoice=self.invoice, title=self.title, **kwargs)

    def get_success_url(self):
        return reverse("finance:invoice", args=[self.invoice.pk])


class PaymentView(_InvoiceActionView):
    form_class = PaymentForm
    title = "Record a payment"

    def perform(self, data):
        payment = services.record_payment(actor=self.request.user, invoice=self.invoice, **data)
        if payment.repeated:
            messages.info(self.request, "This payment was recorded already by this form.")
        else:
            messages.success(self.request, f"Recorded {payment.kind} {payment.amount}.")
        return payment


class SuspendView(_InvoiceActionView):
    form_class = SuspendForm
    title = "Suspend the customer for non-payment"

    def perform(self, data):
        customer = services.suspend_for_non_payment(
            actor=self.request.user, customer=self.invoice.customer, note=data["note"]
        )
        messages.warning(self.request, f"{customer} is suspended for non-payment.")
        return customer


class CreditNoteView(_InvoiceActionView):
    form_class = CreditNoteForm
    title = "Issue a credit note"

    def perform(self, data):
        note = credit_notes.issue_credit_note(actor=self.request.user, invoice=self.invoice, **data)
        if note.repeated:
            messages.info(self.request, f"{note.number} was issued already by this form.")
        else:
            messages.success(
                self.request, f"Issued {note.number}: {note.currency} {note.total} credited."
            )
        return note


class CreditNoteDetailView(LoginRequiredMixin, DetailView):
    """A credit note: the invoice it credits, why, the amount and tax per rate, its posting."""

    template_name = "finance/credit_note_detail.html"
    context_object_name = "note"

    def get_queryset(self):
        return CreditNote.objects.visible_to(self.request.user).select_related(
            "invoice", "customer", "entry"
        )

    def get_context_data(self, **kwargs):
        note, user = self.object, self.request.user
        return super().get_context_data(
            invoice=note.invoice,
            entry_lines=note.entry.lines.visible_to(user).select_related("account"),
            **kwargs,
        )


class TaxRatesView(RoleRequiredMixin, ServiceFormMixin, FormView):
    """The VAT rates per jurisdiction and kind of service; finance and the admin add them."""

    required_roles = FINANCE
    template_name = "finance/tax_rates.html"
    form_class = TaxRateForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(rates=TaxRate.objects.all(), **kwargs)

    def perform(self, data):
        rate = tax.save_tax_rate(actor=self.request.user, **data)
        messages.success(self.request, f"Added the rate {rate}.")
        return rate

    def get_success_url(self):
        return reverse("finance:tax-rates")


class RemindersView(RoleRequiredMixin, View):
    required_roles = FINANCE

    def post(self, request):
        try:
            sent = services.send_reminders(actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.info(request, f"{len(sent)} reminder(s) sent.")
        return redirect("finance:home")


REPORT_TITLES = {
    "cost-recovery": "Cost recovery per internal customer and service",
    "funding": "Consumption at cost against funding",
    "uncovered-cost": "Uncovered cost under partial recovery",
    "external-margin": "Revenue, cost and margin per external customer and service",
    "revenue-capacity": "Revenue against the capacity spend it funds",
}


#: rows each table of the reports page shows (the CSV has them all)
REPORT_ROWS = 50


class ReportsView(RoleRequiredMixin, TemplateView):
    """The finance reports of a period, with charts and CSV downloads (staff only)."""

    template_name = "finance/reports.html"

    def get_context_data(self, **kwargs):
        period = self.request.GET.get("period") or selectors.default_period()
        if period:
            check_period(period)
        # each table shows its first REPORT_ROWS rows, computed alone (issue 14: a row per
        # customer of 10,000 took seconds and megabytes); its CSV has them all
        shown = REPORT_ROWS + 1  # one more tells there are more
        recovery = selectors.cost_recovery(period, first=shown) if period else []
        funding = selectors.funding(period, first=shown) if period else []
        uncovered = selectors.uncovered_cost(period, first=shown) if period else []
        # margins (revenue less cost): finance and the provider admin only (issue 12)
        show_margin = access.may_read_report(self.request.user, "external-margin")
        margin = selectors.external_margin(period, first=shown) if period and show_margin else []
        capacity = selectors.revenue_vs_capacity(period) if period and show_margin else {"rows": []}
        more = {
            "funding": len(funding) > REPORT_ROWS,
            "recovery": len(recovery) > REPORT_ROWS,
            "uncovered": len(uncovered) > REPORT_ROWS,
            "margin": len(margin) > REPORT_ROWS,
            "capacity": len(capacity["rows"]) > REPORT_ROWS,
        }
        funding, recovery, uncovered, margin = (
            funding[:REPORT_ROWS],
            recovery[:REPORT_ROWS],
            uncovered[:REPORT_ROWS],
            margin[:REPORT_ROWS],
        )
        capacity = {**capacity, "rows": capacity["rows"][:REPORT_ROWS]}
        by_customer: dict[str, list[Decimal]] = {}
        for row in margin:  # per customer, in the base currency at each invoice's rate
            label = f"{row['customer']} ({row['base_currency']})"
            acc = by_customer.setdefault(label, [Decimal(0), Decimal(0)])
            acc[0] += row["base_revenue"]
            acc[1] += row["base_margin"] or 0
        return super().get_context_data(
            period=period,
            periods=selectors.report_periods(),
            titles=REPORT_TITLES,
            recovery=recovery,
            funding=funding,
            uncovered=uncovered,
            show_margin=show_margin,
            margin=margin,
            base_currency=Provider.current().base_currency,
            capacity=capacity,
            more=more,
            report_rows=REPORT_ROWS,
            funding_chart=chart_json(
                [r["customer"] for r in funding],
                [r["consumption_at_cost"] for r in funding],
                "Consumption at cost",
            ),
            budget_chart=chart_json(
                [r["customer"] for r in funding], [r["budget"] for r in funding], "Budget"
            ),
            margin_chart=chart_json(
                list(by_customer), [v[1] for v in by_customer.values()], "Margin"
            ),
            revenue_chart=chart_json(
                list(by_customer), [v[0] for v in by_customer.values()], "Revenue"
            ),
            **kwargs,
        )


class ReportCsvView(RoleRequiredMixin, View):
    def get(self, request, name):
        if name not in selectors.REPORTS:
            raise Http404
        if name in access.MARGIN_REPORTS:
            access.require_margin_reader(request.user)
        period = request.GET.get("period") or selectors.default_period()
        if not period:
            raise Http404
        try:
            check_period(period)
        except DomainError:
            raise Http404 from None
        data = selectors.REPORTS[name](period)
        rows = data["rows"] if isinstance(data, dict) else data
        return download(export.report_csv(rows), f"{name}-{period}.csv", "text/csv")


# --- usage at scale: imports, cloud allocation, FOCUS export -------------------------------------


class FocusExportView(LoginRequiredMixin, TemplateView):
    """Download the charges the user may see as FOCUS (CSV or Parquet), for FinOps tools."""

    template_name = "finance/focus_export.html"

    def get(self, request, *args, **kwargs):
        from servicebook.finance.billing.forms import FocusExportForm

        periods = selectors.charged_periods(request.user)
        if "period" in request.GET:
            form = FocusExportForm(request.GET, periods=periods)
            if form.is_valid():
                period, fmt = form.cleaned_data["period"], form.cleaned_data["format"]
                content = selectors.focus_export(request.user, period, fmt)
                kind = "text/csv" if fmt == "csv" else "application/vnd.apache.parquet"
                response = download(content, f"focus-{period}.{fmt}", kind)
                response["X-FOCUS-Version"] = selectors.FOCUS_VERSION
                return response
        else:
            form = FocusExportForm(periods=periods)
        return self.render_to_response(self.get_context_data(form=form, periods=periods))
