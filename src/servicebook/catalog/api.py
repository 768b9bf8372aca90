"""REST API for the service catalog."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.catalog import services
from servicebook.catalog.filters import SERVICE_ORDERING, ServiceFilter
from servicebook.catalog.models import DesignSpecification, Offering, PriceTier, Service
from servicebook.core.api import ScopedInputSerializer, ScopedWriteSerializer, ServiceBackedViewSet
from servicebook.core.roles import Role
from servicebook.core.schema import writes_answer
from servicebook.parties.models import Contact, Provider
from servicebook.web.serializers import CostAwareSerializer


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceTier
        fields = ["lower_bound", "unit_price"]


class OfferingSerializer(CostAwareSerializer):
    tiers = TierSerializer(many=True, read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)

    class Meta:
        model = Offering
        fields = [
            "id",
            "service",
            "service_name",
            "code",
            "name",
            "unit",
            "charge_model",
            "list_price",
            "currency",
            "package_size",
            "tiers",
            "standard_unit_cost",
            "active",
        ]
        cost_fields = ["standard_unit_cost"]


class OfferingWriteSerializer(ScopedWriteSerializer):
    tiers = TierSerializer(many=True, required=False)

    class Meta:
        model = Offering
        fields = ["service", *Offering.EDITABLE_FIELDS, "active", "tiers"]
        validators = []


class ServiceSerializer(serializers.ModelSerializer):
    offerings = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "code",
            "name",
            "description",
            "status",
            "offered_to",
            "data_locations",
            "tax_kind",
            "objectives",
            "offerings",
        ]

    def get_offerings(self, obj) -> list[dict]:
        request = self.context.get("request")
        visible = [o for o in obj.offerings.all() if o.active or _is_staff(request)]
        return OfferingSerializer(visible, many=True, context=self.context).data


def _is_staff(request) -> bool:
    from servicebook.core.roles import is_provider_staff

    return request is not None and is_provider_staff(request.user)


class ServiceWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Service
        fields = [
            "code",
            "name",
            "description",
            "status",
            "offered_to",
            "data_locations",
            "tax_kind",
        ]
        validators = []


class SpecificationSerializer(ScopedWriteSerializer):
    signed_off_by_name = serializers.CharField(
        source="signed_off_by.name", read_only=True, default=None, allow_null=True
    )  # null until signed off

    class Meta:
        model = DesignSpecification
        fields = [
            "id",
            "service",
            "version",
            "customer",
            "positioning",
            "functionality",
            "manageability",
            "constraints",
            "expected_roi",
            "price",
            "status",
            "signed_off_by",
            "signed_off_by_name",
            "signed_off_at",
        ]
        read_only_fields = ["version", "status", "signed_off_by", "signed_off_at"]
        validators = []


class SignOffSerializer(ScopedInputSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())


class SpecificationViewSet(ServiceBackedViewSet):
    """Versioned design specifications of services and their customers' sign-off."""

    write_roles = {
        "create": (services.CATALOG_EDITORS, "Creating a design specification"),
        "sign_off": (services.CATALOG_EDITORS, "Recording a sign-off"),
    }

    queryset = DesignSpecification.objects.select_related("signed_off_by")
    serializer_class = SpecificationSerializer
    write_serializer_class = SpecificationSerializer
    filterset_fields = ["service", "customer", "status"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.create_specification(actor=self.request.user, **data)

    @extend_schema(request=SignOffSerializer, responses=SpecificationSerializer)
    @action(detail=True, methods=["post"], serializer_class=SignOffSerializer)
    def sign_off(self, request, pk=None):
        """The customer's approver signs the specification off."""
        serializer = SignOffSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        spec = services.sign_off_specification(
            actor=request.user, specification=self.get_object(), **serializer.validated_data
        )
        return Response(SpecificationSerializer(spec, context={"request": request}).data)


@writes_answer(ServiceSerializer, ServiceWriteSerializer)
class ServiceViewSet(ServiceBackedViewSet):
    """The catalog: staff see every service; customers see the live services offered to them."""

    write_roles = services.CATALOG_EDITORS

    queryset = Service.objects.prefetch_related(
        "offerings__tiers", "offerings__service", "objectives"
    )
    serializer_class = ServiceSerializer
    write_serializer_class = ServiceWriteSerializer
    filterset_class = ServiceFilter
    search_fields = ["name", "code", "description"]
    ordering_fields = SERVICE_ORDERING

    def create_object(self, data):
        return services.create_service(actor=self.request.user, provider=Provider.current(), **data)

    def update_object(self, instance, data):
        return services.update_service(actor=self.request.user, service=instance, **data)


@writes_answer(OfferingSerializer, OfferingWriteSerializer)
class OfferingViewSet(ServiceBackedViewSet):
    write_roles = (*services.CATALOG_EDITORS, Role.FINANCE)
    queryset = Offering.objects.select_related("service").prefetch_related("tiers")
    serializer_class = OfferingSerializer
    write_serializer_class = OfferingWriteSerializer
    filterset_fields = ["service", "unit", "charge_model", "currency", "active"]
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "list_price"]

    def create_object(self, data):
        tiers = [(t["lower_bound"], t["unit_price"]) for t in data.pop("tiers", [])]
        service = data.pop("service")
        return services.create_offering(
            actor=self.request.user, service=service, tiers=tiers, **data
        )

    def update_object(self, instance, data):
        tiers = data.pop("tiers", None)
        if tiers is not None:
            tiers = [(t["lower_bound"], t["unit_price"]) for t in tiers]
        return services.update_offering(
            actor=self.request.user, offering=instance, tiers=tiers, **data
        )


ROUTES = [
    ("services", ServiceViewSet, "service"),
    ("offerings", OfferingViewSet, "offering"),
    ("specifications", SpecificationViewSet, "specification"),
]
