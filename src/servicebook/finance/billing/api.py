"""REST API of billing: statements, invoices, payments, reminders, periods and their close, the
finance reports and the FOCUS export of charges.

Customer users see only their own statements (internal, at cost) and invoices (external, prices
only: cost fields are dropped for them, R7). Periods and reports are provider staff only.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from servicebook.core.api import PermissionFirstMixin, ScopedWriteSerializer
from servicebook.core.idempotency import header_parameter, key_of
from servicebook.core.params import object_id
from servicebook.core.roles import is_provider_staff
from servicebook.finance.billing import access, selectors, services
from servicebook.finance.billing.filters import (
    INVOICE_ORDERING,
    PAYMENT_ORDERING,
    STATEMENT_ORDERING,
    InvoiceFilter,
    PaymentFilter,
    StatementFilter,
)
from servicebook.finance.billing.legal_api import EInvoiceDownloadsMixin
from servicebook.finance.billing.models import (
    Invoice,
    InvoiceLine,
    Payment,
    Reminder,
    Statement,
    StatementLine,
)
from servicebook.finance.ledger.api import (
    ScopedReadOnlyViewSet,
    require_staff,
)
from servicebook.finance.ledger.models import Period
from servicebook.finance.ledger.periods import check_period
from servicebook.finance.ledger.services import FINANCE
from servicebook.web.serializers import CostAwareSerializer

# --- statements and invoices ---------------------------------------------------------------------


class StatementLineSerializer(CostAwareSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)

    class Meta:
        model = StatementLine
        fields = [
            "service",
            "service_name",
            "offering",
            "source",
            "description",
            "quantity",
            "unit_cost",
            "cost",
            "charge",
        ]
        cost_fields = ["unit_cost", "cost"]


class StatementSerializer(CostAwareSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    lines = StatementLineSerializer(many=True, read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "number",
            "period",
            "customer",
            "customer_name",
            "funding_model",
            "currency",
            "total_cost",
            "total_charge",
            "recovered",
            "uncovered",
            "budget",
            "posted",
            "lines",
        ]
        cost_fields = ["total_cost"]


class StatementViewSet(ScopedReadOnlyViewSet):
    """Internal statements (chargeback or showback), itemized by service, at cost."""

    queryset = Statement.objects.select_related("customer").prefetch_related("lines__service")
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    ordering_fields = STATEMENT_ORDERING


class BreakdownStepSerializer(serializers.Serializer):
    label = serializers.CharField()
    quantity = serializers.CharField()
    unit_price = serializers.CharField()
    amount = serializers.CharField()


class InvoiceLineSerializer(CostAwareSerializer):
    service_name = serializers.CharField(
        source="service.name", read_only=True, default=None, allow_null=True
    )
    breakdown = BreakdownStepSerializer(many=True, read_only=True)

    class Meta:
        model = InvoiceLine
        fields = [
            "kind",
            "service",
            "service_name",
            "offering",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "breakdown",
            "cost",
            "reference",
            "tax_category",
            "tax_rate",
        ]
        cost_fields = ["cost"]


#: what the law asks an invoice to carry (decision 0026)
LEGAL_FIELDS = [
    "series",
    "fiscal_year",
    "sequence",
    "supply_start",
    "supply_end",
    "payment_terms_days",
    "tax_regime",
    "taxes",
    "tax_amount",
    "total_incl_tax",
    "legal_mentions",
    "issuer_legal_name",
    "issuer_address",
    "issuer_registration",
    "issuer_vat_number",
    "issuer_country",
    "issuer_iban",
    "issuer_bic",
    "customer_legal_name",
    "customer_address",
    "customer_registration",
    "customer_vat_number",
    "customer_country",
    "credited_net",
    "credited",
]


class InvoiceSerializer(CostAwareSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    agreement_reference = serializers.CharField(source="agreement.reference", read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)
    outstanding = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "period",
            "customer",
            "customer_name",
            "agreement",
            "agreement_reference",
            "currency",
            "issue_date",
            "due_date",
            "gross",
            "credits",
            "total",
            "cash_amount",
            "in_kind_amount",
            "paid_cash",
            "delivered_in_kind",
            "outstanding",
            "status",
            "base_currency",
            "exchange_rate",
            "rate_date",
            "base_total",
            *LEGAL_FIELDS,
            "cost",
            "lines",
        ]
        cost_fields = ["cost"]


class InvoiceViewSet(EInvoiceDownloadsMixin, ScopedReadOnlyViewSet):
    """External invoices: cash part, in-kind part, credits as negative lines."""

    queryset = Invoice.objects.select_related("customer", "agreement").prefetch_related(
        "lines__service"
    )
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    ordering_fields = INVOICE_ORDERING


class PaymentSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "kind",
            "amount",
            "currency",
            "date",
            "reference",
        ]


class PaymentWriteSerializer(ScopedWriteSerializer):
    date = serializers.DateField(required=False)

    class Meta:
        model = Payment
        fields = ["invoice", "kind", "amount", "date", "reference"]


class PaymentViewSet(
    PermissionFirstMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Cash received and in-kind deliveries against invoices (finance records them)."""

    queryset = Payment.objects.select_related("invoice")
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = PAYMENT_ORDERING
    write_roles = {"create": (FINANCE, "Recording a payment")}

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def get_serializer_class(self):
        return PaymentWriteSerializer if self.action == "create" else PaymentSerializer

    @extend_schema(
        parameters=[header_parameter("payment")],
        responses={201: PaymentSerializer, 200: PaymentSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = PaymentWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        payment = services.record_payment(
            actor=request.user, request_key=key_of(request), **serializer.validated_data
        )
        return Response(
            PaymentSerializer(payment).data,
            status=status.HTTP_200_OK if payment.repeated else status.HTTP_201_CREATED,
        )


class ReminderSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "level",
            "days_overdue",
            "outstanding",
            "sent_on",
        ]


class ReminderViewSet(ScopedReadOnlyViewSet):
    """Payment reminders of overdue invoices (30, 60, 90 days)."""

    queryset = Reminder.objects.select_related("invoice")
    serializer_class = ReminderSerializer
    filterset_fields = ["invoice", "level"]
    write_roles = {"send": (FINANCE, "Sending payment reminders")}

    @action(detail=False, methods=["post"], serializer_class=serializers.Serializer)
    def send(self, request):
        """Age overdue invoices into reminders now (finance)."""
        sent = services.send_reminders(actor=request.user)
        return Response({"sent": len(sent)})


# --- periods -------------------------------------------------------------------------------------


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Period
        fields = ["id", "period", "status", "closed_at", "closed_by", "summary"]


class CloseSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=7)
    dry_run = serializers.BooleanField(default=False)
    earlier_reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why a month earlier than one already closed is closed now (required then).",
    )


class PeriodViewSet(ScopedReadOnlyViewSet):
    """Periods and their close (finance only closes)."""

    queryset = Period.objects.all()
    serializer_class = PeriodSerializer
    filterset_fields = ["status"]
    write_roles = {"close": (FINANCE, "Closing a period")}

    @action(detail=False, methods=["post"], serializer_class=CloseSerializer)
    def close(self, request):
        """Close a period: ``{"period": "2026-10", "dry_run": false}``; idempotent. A month earlier
        than one already closed needs ``earlier_reason``."""
        if not is_provider_staff(request.user):
            raise PermissionDenied("Closing a period needs the finance role")
        serializer = CloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.close_period(actor=request.user, **serializer.validated_data)
        return Response(result)


# --- reports -------------------------------------------------------------------------------------


class ReportViewSet(PermissionFirstMixin, viewsets.ViewSet):
    """Finance reports (staff only): ``/api/finance-reports/<name>/?period=YYYY-MM``."""

    lookup_field = "name"
    lookup_value_regex = "[a-z-]+"

    def list(self, request):
        """The reports this user may read (margin reports: finance and the admin only)."""
        require_staff(request)
        names = sorted(
            name for name in selectors.REPORTS if access.may_read_report(request.user, name)
        )
        return Response({"reports": names, "periods": selectors.report_periods()})

    def retrieve(self, request, name=None):
        require_staff(request)
        if name not in selectors.REPORTS:
            raise Http404
        if name in access.MARGIN_REPORTS:
            access.require_margin_reader(request.user)
        period = request.query_params.get("period") or selectors.default_period()
        if period is None:
            return Response({"period": None, "rows": []})
        check_period(period)
        data = selectors.REPORTS[name](period)
        return Response(data if isinstance(data, dict) else {"period": period, "rows": data})


# --- usage at scale: imports, cloud allocation, FOCUS export -------------------------------------


class FocusExportViewSet(PermissionFirstMixin, viewsets.ViewSet):
    """``/api/focus-export/?period=YYYY-MM&format=csv|parquet[&customer=<id>]``: the charges the
    user may see as a FOCUS 1.2 dataset (customer users: their own, prices only); the version is
    in the ``X-FOCUS-Version`` header (and in a Parquet file's metadata)."""

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the file format here, not a DRF renderer
        return super().perform_content_negotiation(request, force=True)

    def list(self, request):
        period = request.query_params.get("period") or ""
        fmt = request.query_params.get("format") or "csv"
        if fmt not in ("csv", "parquet"):
            raise serializers.ValidationError({"format": "csv or parquet"})
        if not period:
            periods = selectors.charged_periods(request.user)
            return Response({"periods": periods, "formats": ["csv", "parquet"]})
        check_period(period)
        customer = request.query_params.get("customer")
        if customer is not None and object_id(customer) is None:
            raise serializers.ValidationError({"customer": "a customer id"})
        content = selectors.focus_export(request.user, period, fmt, object_id(customer))
        kind = "text/csv" if fmt == "csv" else "application/vnd.apache.parquet"
        response = HttpResponse(content, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="focus-{period}.{fmt}"'
        response["X-FOCUS-Version"] = selectors.FOCUS_VERSION
        return response


ROUTES = [
    ("statements", StatementViewSet, "statement"),
    ("invoices", InvoiceViewSet, "invoice"),
    ("payments", PaymentViewSet, "payment"),
    ("reminders", ReminderViewSet, "reminder"),
    ("periods", PeriodViewSet, "period"),
    ("finance-reports", ReportViewSet, "financereport"),
    ("focus-export", FocusExportViewSet, "focusexport"),
]
