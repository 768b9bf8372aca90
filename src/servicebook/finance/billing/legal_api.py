"""REST API of invoicing's law (decision 0026): credit notes (finance issues them; customer users
read their own) and the VAT rates (staff read them; finance and the admin keep them)."""

from __future__ import annotations

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from servicebook.core.api import PermissionFirstMixin, ScopedWriteSerializer, ServiceBackedViewSet
from servicebook.finance.billing import credit_notes, tax
from servicebook.finance.billing.legal_models import CreditNote, TaxRate
from servicebook.finance.ledger.services import FINANCE


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

    def create(self, request, *args, **kwargs):
        serializer = CreditNoteWriteSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        note = credit_notes.issue_credit_note(actor=request.user, **serializer.validated_data)
        return Response(CreditNoteSerializer(note).data, status=status.HTTP_201_CREATED)


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
