"""REST API for customers and contacts."""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.core.api import ScopedWriteSerializer, ServiceBackedViewSet
from servicebook.parties import services
from servicebook.parties.models import Contact, Customer, CustomerEvent, CustomerStatus, Provider


class CustomerSerializer(serializers.ModelSerializer):
    billing_currency = serializers.CharField(read_only=True)
    agreement_kind = serializers.SerializerMethodField()
    funding_source = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            *Customer.EDITABLE_FIELDS,
            "status",
            "status_reason",
            "billing_currency",
            "agreement_kind",
            "funding_source",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "status_reason", "created_at", "updated_at"]

    def to_representation(self, instance):
        """Leave out the fields that do not apply to this customer's kind."""
        data = super().to_representation(instance)
        for name in instance.policy.foreign_fields:
            data.pop(name, None)
        return data

    def get_agreement_kind(self, obj) -> str:
        return obj.policy.agreement_kind

    def get_funding_source(self, obj) -> str:
        return obj.policy.funding_source


class CustomerWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Customer
        fields = list(Customer.EDITABLE_FIELDS)
        # Model-level checks run in the service (full_clean), once, for API and forms alike.
        validators = []


class CustomerStatusSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=CustomerStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CustomerEventSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()

    class Meta:
        model = CustomerEvent
        fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]


class CustomerFilter(filters.FilterSet):
    class Meta:
        model = Customer
        fields = ["kind", "status", "funding_model", "jurisdiction"]


class CustomerViewSet(ServiceBackedViewSet):
    """Customers: provider staff see all, a customer user sees only its own customer."""

    queryset = Customer.objects.select_related("provider")
    serializer_class = CustomerSerializer
    write_serializer_class = CustomerWriteSerializer
    filterset_class = CustomerFilter
    search_fields = ["name", "code", "legal_name", "business_unit"]
    ordering_fields = ["name", "code", "status", "created_at"]

    def create_object(self, data):
        return services.create_customer(
            actor=self.request.user, provider=Provider.current(), **data
        )

    def update_object(self, instance, data):
        return services.update_customer(actor=self.request.user, customer=instance, **data)

    @action(detail=True, methods=["post"], serializer_class=CustomerStatusSerializer)
    def status(self, request, pk=None):
        """Move the customer along its lifecycle (with a reason when suspending/terminating)."""
        customer = self.get_object()
        serializer = CustomerStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.change_customer_status(
            actor=request.user, customer=customer, **serializer.validated_data
        )
        return Response(CustomerSerializer(customer, context={"request": request}).data)

    @action(detail=True, methods=["get"], serializer_class=CustomerEventSerializer)
    def events(self, request, pk=None):
        """The customer's history: every lifecycle step with who, when and why."""
        customer = self.get_object()
        events = customer.events.select_related("actor")
        return Response(CustomerEventSerializer(events, many=True).data)


class ContactSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "customer", *Contact.EDITABLE_FIELDS, "roles"]


class ContactWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Contact
        fields = ["customer", *Contact.EDITABLE_FIELDS]


class ContactViewSet(ServiceBackedViewSet):
    queryset = Contact.objects.select_related("customer")
    serializer_class = ContactSerializer
    write_serializer_class = ContactWriteSerializer
    filterset_fields = ["customer", "is_approver", "is_requester", "active"]
    search_fields = ["name", "email"]
    ordering_fields = ["name", "customer__name"]

    def create_object(self, data):
        customer = data.pop("customer")
        return services.create_contact(actor=self.request.user, customer=customer, **data)

    def update_object(self, instance, data):
        return services.update_contact(actor=self.request.user, contact=instance, **data)


ROUTES = [
    ("customers", CustomerViewSet, "customer"),
    ("contacts", ContactViewSet, "contact"),
]
