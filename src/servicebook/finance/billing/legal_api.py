"""REST API of invoicing's law (decision 0026): credit notes (finance issues them; customer users
read their own) and the VAT rates (staff read them; finance and the admin keep them)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.core.api import PermissionFirstMixin, ScopedWriteSerializer, ServiceBackedViewSet
from servicebook.core.idempotency import header_parameter, key_of
from servicebook.core.money import to_decimal
from servicebook.finance.billing import credit_notes, tax
from servicebook.finance.billing.legal_models import CreditNote, TaxRate
from servicebook.finance.ledger.services import FINANCE


class EInvoiceDownloadsMixin:
    """``ubl`` and ``facturx`` actions of a viewset of invoices or credit notes (decision 0027):
    the object comes from the viewset's own scoped queryset, so a customer user gets only theirs."""

    def _einvoice(self, fmt: str):
        from servicebook.finance.billing.einvoice.document import EInvoiceError
        from servicebook.finance.billing.einvoice.export import render

        document = self.get_object()  # type: ignore[attr-defined]
        rate = self.request.query_params.get("vat_rate")  # type: ignore[attr-defined]
        try:
            file = render(document, fmt, vat_exchange_rate=to_decimal(rate) if rate else None)
        except (EInvoiceError, ValueError) as error:
            raise serializers.ValidationError({"detail": str(error)}) from None
        response = HttpResponse(file.content, content_type=file.content_type)
        response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
        return response

    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], serializer_class=serializers.Serializer)
    def ubl(self, request, pk=None):
        """The document as UBL 2.1, Peppol BIS Billing 3.0 (``?vat_rate=`` for a foreign
        currency when no ECB rate is known)."""
        return self._einvoice("ubl")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], serializer_class=serializers.Serializer)
    def facturx(self, request, pk=None):
        """The document as Factur-X (PDF/A-3 with its EN 16931 CII XML)."""
        return self._einvoice("facturx")


class CreditNoteSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "invoice",
            "invoice_number",
            "customer",
            "customer_name",
            "currency",
            "issue_date",
            "reason",
            "net_amount",
            "tax_amount",
            "total",
            "taxes",
        ]


class CreditNoteWriteSerializer(ScopedWriteSerializer):
    amount = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Credited, excluding tax."
    )
    date = serializers.DateField(required=False)

    class Meta:
        model = CreditNote
        fields = ["invoice", "amount", "reason", "date"]


class CreditNoteViewSet(
    EInvoiceDownloadsMixin,
    PermissionFirstMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Credit notes: all or part of an invoice credited, with a reason (finance issues them)."""

    queryset = CreditNote.objects.select_related("invoice", "customer")
    serializer_class = CreditNoteSerializer
    filterset_fields = ["invoice", "customer"]
    ordering_fields = ["issue_date", "number"]
    write_roles = {"create": (FINANCE, "Issuing a credit note")}

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def get_serializer_class(self):
        return CreditNoteWriteSerializer if self.action == "create" else CreditNoteSerializer

    @extend_schema(
        parameters=[header_parameter("credit note")],
        responses={201: CreditNoteSerializer, 200: CreditNoteSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = CreditNoteWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        note = credit_notes.issue_credit_note(
            actor=request.user,
            request_key=key_of(request),
            **serializer.validated_data,
        )
        return Response(
            CreditNoteSerializer(note).data,
            status=status.HTTP_200_OK if note.repeated else status.HTTP_201_CREATED,
        )


class TaxRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaxRate
        fields = ["id", *TaxRate.EDITABLE_FIELDS]


class TaxRateViewSet(ServiceBackedViewSet):
    """VAT rates per jurisdiction and kind of service, with their validity."""

    queryset = TaxRate.objects.all()
    serializer_class = TaxRateSerializer
    write_serializer_class = TaxRateSerializer
    filterset_fields = ["jurisdiction", "kind"]
    write_roles = {
        "create": (FINANCE, "Changing tax rates"),
        "update": (FINANCE, "Changing tax rates"),
        "partial_update": (FINANCE, "Changing tax rates"),
    }

    def create_object(self, data):
        return tax.save_tax_rate(actor=self.request.user, **data)

    def update_object(self, instance, data):
        return tax.save_tax_rate(actor=self.request.user, instance=instance, **data)


ROUTES = [
    ("credit-notes", CreditNoteViewSet, "creditnote"),
    ("tax-rates", TaxRateViewSet, "taxrate"),
]
