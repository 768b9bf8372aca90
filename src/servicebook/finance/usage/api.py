"""REST API of usage (staff only, a customer sees its own cloud charges): imports into the usage
store, the cloud mappings, the cloud cost allocated to customers."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.catalog.models import Offering
from servicebook.core.api import PermissionFirstMixin, ScopedWriteSerializer
from servicebook.core.periods import PERIOD_RE
from servicebook.finance.ledger.api import ScopedReadOnlyViewSet, require_staff
from servicebook.finance.usage import selectors, services
from servicebook.finance.usage.models import (
    AllocationKey,
    CloudCharge,
    CloudMapping,
    CostBasis,
    SharedCostMode,
    UsageFormat,
    UsageImport,
)
from servicebook.web.serializers import CostAwareSerializer


class UsageImportSerializer(serializers.ModelSerializer):
    offering_code = serializers.CharField(
        source="offering.code", read_only=True, default=None, allow_null=True
    )
    allocation = serializers.SerializerMethodField()
    effective_totals = serializers.SerializerMethodField()

    class Meta:
        model = UsageImport
        fields = [
            "id",
            "file_hash",
            "format",
            "filename",
            "source",
            "period",
            "periods",
            "rows_read",
            "rows_imported",
            "rows_skipped_duplicate",
            "rows_rejected",
            "quantity_totals",
            "cost_totals",
            "effective_totals",
            "cost_basis",
            "shared_mode",
            "billing_currency",
            "statement_currency",
            "exchange_rate",
            "offering",
            "offering_code",
            "allocation",
            "created_at",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_allocation(self, obj) -> dict:
        return selectors.allocation_totals(obj) if obj.format == UsageFormat.FOCUS else {}

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_effective_totals(self, obj) -> dict:
        return obj.report.get("effective_totals", {})


class UsageImportInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=UsageFormat.choices)
    period = serializers.RegexField(PERIOD_RE, required=False, allow_blank=True)
    source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    cost_basis = serializers.ChoiceField(choices=CostBasis.choices, default=CostBasis.EFFECTIVE)
    shared_mode = serializers.ChoiceField(
        choices=SharedCostMode.choices, default=SharedCostMode.SEPARATE
    )
    exchange_rate = serializers.DecimalField(
        max_digits=20,
        decimal_places=10,
        required=False,
        allow_null=True,
        help_text="FOCUS bill currency → statement currency; default: the reference rate of "
        "each billed month's last day.",
    )
    offering = serializers.SlugRelatedField(
        slug_field="code", queryset=Offering.objects.all(), required=False, allow_null=True
    )


class UsageImportViewSet(
    PermissionFirstMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Usage files imported into the store (staff only). POST (multipart) imports one:
    ``file``, ``format`` (csv | focus), ``period``; for FOCUS ``cost_basis``, ``shared_mode``,
    ``exchange_rate``, ``offering``. Answers the counts, totals and rejects, 201 (200 when the
    same file was imported before: nothing changed)."""

    queryset = UsageImport.objects.select_related("offering")
    serializer_class = UsageImportSerializer
    filterset_fields = ["format", "period"]
    write_roles = {"create": (services.USAGE_EDITORS, "Importing usage")}

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        require_staff(request)
        serializer = UsageImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("file")
        _, summary = services.import_uploaded(request.user, upload, **data)
        code = status.HTTP_200_OK if summary["already_imported"] else status.HTTP_201_CREATED
        return Response(summary, status=code)

    @action(detail=True, methods=["get"])
    def allocation(self, request, pk=None):
        """Per month: cost per customer (exact), shared and unallocated pools, the file total."""
        record = self.get_object()
        months = selectors.allocation_report(record)
        for month in months:
            for row in month["rows"]:
                customer = row.pop("customer")
                row["customer"] = customer.pk if customer else None
                row["customer_name"] = customer.name if customer else ""
        return Response({"id": record.pk, "cost_basis": record.cost_basis, "months": months})

    @action(detail=True, methods=["get"])
    def rejects(self, request, pk=None):
        """The rejected rows with their reasons, as CSV (404 when nothing was rejected)."""
        record = self.get_object()
        content = selectors.rejects_content(record)
        if content is None:
            raise Http404
        response = HttpResponse(content, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="rejects-{record.pk}.csv"'
        return response


class CloudMappingSerializer(ScopedWriteSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None)

    class Meta:
        model = CloudMapping
        fields = ["id", "key", "tag_key", "value", "customer", "customer_name", "note"]
        validators = []


class CloudMappingViewSet(PermissionFirstMixin, viewsets.ModelViewSet):
    """Rules sending cloud cost to customers by resource id, tag value or sub-account (staff)."""

    queryset = CloudMapping.objects.select_related("customer")
    serializer_class = CloudMappingSerializer
    filterset_fields = ["key", "tag_key", "customer"]
    write_roles = {
        name: (services.USAGE_EDITORS, "Changing cloud cost allocation")
        for name in ("create", "update", "partial_update", "destroy")
    }

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def _save(self, request, instance=None):
        require_staff(request)
        serializer = CloudMappingSerializer(
            instance, data=request.data, partial=instance is not None, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        current = {
            name: getattr(instance, name) if instance else default
            for name, default in (
                ("key", AllocationKey.TAG),
                ("tag_key", ""),
                ("value", ""),
                ("customer", None),
                ("note", ""),
            )
        }
        current.update(data)
        mapping = services.set_cloud_mapping(actor=request.user, mapping=instance, **current)
        return CloudMappingSerializer(mapping).data

    def create(self, request, *args, **kwargs):
        return Response(self._save(request), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        return Response(self._save(request, self.get_object()))

    def destroy(self, request, *args, **kwargs):
        mapping = self.get_object()
        services.delete_cloud_mapping(actor=request.user, mapping=mapping)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CloudChargeSerializer(CostAwareSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    filename = serializers.CharField(source="usage_import.filename", read_only=True)

    class Meta:
        model = CloudCharge
        fields = [
            "id",
            "period",
            "customer",
            "customer_name",
            "usage_import",
            "filename",
            "rows",
            "billing_currency",
            "exact",
            "direct",
            "spread",
            "currency",
            "amount",
        ]
        cost_fields = ["exact", "direct", "spread", "amount"]


class CloudChargeViewSet(ScopedReadOnlyViewSet):
    """Cloud cost allocated to customers per FOCUS bill and month (a customer: its own)."""

    queryset = CloudCharge.objects.select_related("customer", "usage_import")
    serializer_class = CloudChargeSerializer
    filterset_fields = ["period", "customer", "usage_import"]


ROUTES = [
    ("usage-imports", UsageImportViewSet, "usageimport"),
    ("cloud-mappings", CloudMappingViewSet, "cloudmapping"),
    ("cloud-charges", CloudChargeViewSet, "cloudcharge"),
]
