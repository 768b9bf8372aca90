"""REST API for agreements and their lines."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.agreements import services
from servicebook.agreements.filters import AGREEMENT_ORDERING, AgreementFilter
from servicebook.agreements.lifecycle.api import RENEWER_ROLES, LifecycleActions
from servicebook.agreements.models import (
    Agreement,
    AgreementLine,
    AgreementSignature,
    AgreementStatus,
    Calendar,
    ChangeClause,
    ConsiderationItem,
    CreditTier,
    JurisdictionAcknowledgement,
    Outcome,
    ServiceLevelTarget,
)
from servicebook.agreements.orders.api import ROUTES as ORDER_ROUTES
from servicebook.agreements.selectors import activation_blockers
from servicebook.catalog.models import Service
from servicebook.core.api import ScopedInputSerializer, ScopedWriteSerializer, ServiceBackedViewSet
from servicebook.core.roles import Role
from servicebook.parties.models import Contact
from servicebook.web.serializers import CostAwareSerializer


class AgreementLineSerializer(CostAwareSerializer):
    offering_name = serializers.CharField(source="offering.name", read_only=True)
    service_name = serializers.CharField(source="offering.service.name", read_only=True)
    unit = serializers.CharField(source="offering.unit", read_only=True)
    charge_model = serializers.CharField(source="offering.charge_model", read_only=True)
    monthly_price = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    monthly_charge = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    monthly_cost = serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, allow_null=True
    )
    monthly_margin = serializers.SerializerMethodField()
    cost_unknown_reason = serializers.SerializerMethodField()

    class Meta:
        model = AgreementLine
        fields = [
            "id",
            "agreement",
            "offering",
            "offering_name",
            "service_name",
            "unit",
            "charge_model",
            "quantity",
            "unit_price",
            "description",
            "monthly_price",
            "monthly_charge",
            "monthly_cost",
            "monthly_margin",
            "cost_unknown_reason",
        ]
        cost_fields = ["monthly_cost", "monthly_margin", "cost_unknown_reason"]
        margin_fields = ["monthly_margin"]

    def get_monthly_margin(self, obj) -> Decimal | None:
        """Price less cost, both in the agreement's currency; None when the cost is unknown
        (or in another currency: never a 1:1 mix, R6)."""
        cost = obj.monthly_cost()
        return None if cost is None else obj.monthly_price() - cost

    def get_cost_unknown_reason(self, obj) -> str | None:
        return obj.cost_unknown_reason()


class SignatureSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = AgreementSignature
        fields = ["contact", "contact_name", "yearly_value", "signed_at"]


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = ["id", "description", "measure"]


class ConsiderationItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsiderationItem
        fields = ["description", "unit_value", "quantity"]


class AcknowledgementSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = JurisdictionAcknowledgement
        fields = ["service", "contact", "contact_name", "statement", "recorded_at"]


class SignInputSerializer(ScopedInputSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())


class ConsiderationInputSerializer(serializers.Serializer):
    contract_value = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    cash = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    in_kind = ConsiderationItemSerializer(many=True, required=False, default=list)


class AcknowledgeInputSerializer(ScopedInputSerializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    statement = serializers.CharField()


class AgreementSerializer(CostAwareSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    legally_binding = serializers.BooleanField(read_only=True)
    lines = AgreementLineSerializer(many=True, read_only=True)
    monthly_price = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    monthly_charge = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    yearly_value = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    monthly_cost = serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, allow_null=True
    )
    in_kind_value = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    consideration_items = ConsiderationItemSerializer(many=True, read_only=True)
    signatures = SignatureSerializer(many=True, read_only=True)
    outcomes = OutcomeSerializer(many=True, read_only=True)
    acknowledgements = AcknowledgementSerializer(many=True, read_only=True)
    due_diligence_summary = serializers.SerializerMethodField()
    activation_blockers = serializers.SerializerMethodField()
    cost_unknown = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "customer",
            "customer_name",
            "reference",
            "title",
            "kind",
            "legally_binding",
            "status",
            "currency",
            "start_date",
            "end_date",
            "notes",
            "version",
            "previous",
            "due_diligence_summary",
            "auto_renew",
            "renewal_months",
            "termination_notice_days",
            "payment_terms_days",
            "credit_cap_percent",
            "contract_value",
            "consideration_cash",
            "consideration_items",
            "in_kind_value",
            "signatures",
            "outcomes",
            "acknowledgements",
            "activation_blockers",
            "lines",
            "monthly_price",
            "monthly_charge",
            "yearly_value",
            "monthly_cost",
            "cost_unknown",
        ]
        cost_fields = ["monthly_cost", "cost_unknown"]
        #: provider staff only (every staff role, not only those who see margins): the
        #: blockers may name a line's cost (R6)
        staff_fields = ["activation_blockers"]

    def get_due_diligence_summary(self, obj) -> str | None:
        return str(obj.due_diligence) if obj.due_diligence_id else None

    def get_cost_unknown(self, obj) -> list[str]:
        """Why ``monthly_cost`` is unknown (a line without a cost, or with a cost in another
        currency than the agreement, R6); empty when it is known."""
        return obj.cost_unknown_reasons()

    def get_activation_blockers(self, obj) -> list[str]:
        if obj.status not in services.EDITABLE_STATUSES:
            return []
        return activation_blockers(obj)


class AgreementWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Agreement
        fields = ["customer", "reference", "title", "start_date", "end_date", "notes"]
        validators = []


class AgreementStatusSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=AgreementStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


def request_of(view):
    return view.request


def _lines_queryset():
    return AgreementLine.objects.select_related("offering__service").prefetch_related(
        "offering__tiers"
    )


class AgreementViewSet(LifecycleActions, ServiceBackedViewSet):
    """Agreements: SLAs with internal customers, contracts with external ones."""

    #: the roles each write's service requires, checked before the body is read
    write_roles = {
        "create": (services.AGREEMENT_EDITORS, "Creating an agreement"),
        "update": (services.AGREEMENT_EDITORS, "Changing an agreement"),
        "partial_update": (services.AGREEMENT_EDITORS, "Changing an agreement"),
        "status": (services.AGREEMENT_EDITORS, "Changing an agreement's status"),
        "sign": (services.AGREEMENT_EDITORS, "Recording a signature"),
        "consideration": (
            (*services.AGREEMENT_EDITORS, Role.FINANCE),
            "Setting the consideration",
        ),
        "outcomes": (services.AGREEMENT_EDITORS, "Recording a desired outcome"),
        "acknowledge": (services.AGREEMENT_EDITORS, "Recording an acknowledgement"),
        "amend": (services.AGREEMENT_EDITORS, "Amending an agreement"),
        **RENEWER_ROLES,
    }

    queryset = Agreement.objects.select_related(
        "customer__provider", "due_diligence"
    ).prefetch_related(
        Prefetch("lines", queryset=_lines_queryset()),
        "consideration_items",
        "signatures__contact",
        "outcomes",
        "acknowledgements__contact",
    )
    serializer_class = AgreementSerializer
    write_serializer_class = AgreementWriteSerializer
    filterset_class = AgreementFilter
    search_fields = ["reference", "title", "customer__name"]
    ordering_fields = AGREEMENT_ORDERING

    def create_object(self, data):
        customer = data.pop("customer")
        return services.create_agreement(actor=self.request.user, customer=customer, **data)

    def update_object(self, instance, data):
        return services.update_agreement(actor=self.request.user, agreement=instance, **data)

    @extend_schema(request=AgreementStatusSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"], serializer_class=AgreementStatusSerializer)
    def status(self, request, pk=None):
        """Move the agreement along draft → negotiation → active → expired | terminated."""
        agreement = self.get_object()
        serializer = AgreementStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.change_agreement_status(
            actor=request.user, agreement=agreement, **serializer.validated_data
        )
        return self._fresh(agreement)

    def _fresh(self, agreement):
        agreement = self.get_queryset().get(pk=agreement.pk)
        return Response(AgreementSerializer(agreement, context={"request": request_of(self)}).data)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=SignInputSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"], serializer_class=SignInputSerializer)
    def sign(self, request, pk=None):
        """Record a customer approver's signature (refused without enough authority, R17)."""
        agreement = self.get_object()
        data = self._input(SignInputSerializer)
        services.sign_agreement(actor=request.user, agreement=agreement, contact=data["contact"])
        return self._fresh(agreement)

    @extend_schema(request=ConsiderationInputSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"], serializer_class=ConsiderationInputSerializer)
    def consideration(self, request, pk=None):
        """Set the cash and in-kind split of a month of the contract."""
        agreement = self.get_object()
        data = self._input(ConsiderationInputSerializer)
        services.set_consideration(
            actor=request.user,
            agreement=agreement,
            contract_value=data["contract_value"],
            cash=data["cash"],
            in_kind=[dict(item) for item in data["in_kind"]],
        )
        return self._fresh(agreement)

    @extend_schema(request=OutcomeSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"], serializer_class=OutcomeSerializer)
    def outcomes(self, request, pk=None):
        """Record a desired business outcome of an external customer."""
        agreement = self.get_object()
        data = self._input(OutcomeSerializer)
        services.add_outcome(actor=request.user, agreement=agreement, **data)
        return self._fresh(agreement)

    @extend_schema(request=AcknowledgeInputSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"], serializer_class=AcknowledgeInputSerializer)
    def acknowledge(self, request, pk=None):
        """Record the customer's acknowledgement of a data-location conflict."""
        agreement = self.get_object()
        data = self._input(AcknowledgeInputSerializer)
        services.acknowledge_jurisdiction(actor=request.user, agreement=agreement, **data)
        return self._fresh(agreement)

    @extend_schema(request=None, responses=AgreementSerializer)
    @action(detail=True, methods=["post"], serializer_class=serializers.Serializer)
    def amend(self, request, pk=None):
        """Start a new version of an active agreement (the old one stays readable)."""
        new = services.amend_agreement(actor=request.user, agreement=self.get_object())
        return self._fresh(new)


class AgreementLineWriteSerializer(ScopedWriteSerializer):
    unit_price = serializers.DecimalField(
        max_digits=20, decimal_places=6, required=False, allow_null=True
    )

    class Meta:
        model = AgreementLine
        fields = ["agreement", "offering", "quantity", "unit_price", "description"]
        validators = []


class AgreementLineViewSet(ServiceBackedViewSet):
    write_roles = {
        "create": (services.AGREEMENT_EDITORS, "Adding an agreement line"),
        "update": (services.AGREEMENT_EDITORS, "Changing an agreement line"),
        "partial_update": (services.AGREEMENT_EDITORS, "Changing an agreement line"),
    }
    queryset = _lines_queryset().select_related("agreement__customer__provider")
    serializer_class = AgreementLineSerializer
    write_serializer_class = AgreementLineWriteSerializer
    filterset_fields = ["agreement", "offering"]
    ordering_fields = ["id"]

    def create_object(self, data):
        return services.add_line(actor=self.request.user, **data)

    def update_object(self, instance, data):
        data.pop("agreement", None)
        return services.update_line(actor=self.request.user, line=instance, **data)


class CalendarSerializer(ScopedWriteSerializer):
    class Meta:
        model = Calendar
        fields = [
            "id",
            "name",
            "time_zone",
            "windows",
            "holiday_country",
            "holiday_subdivision",
            "extra_holidays",
            "holiday_names",
        ]


class CalendarViewSet(ServiceBackedViewSet):
    """Business calendars: time zone, working windows per weekday, holidays."""

    write_roles = {
        "create": (services.AGREEMENT_EDITORS, "Creating a calendar"),
        "update": (services.AGREEMENT_EDITORS, "Changing a calendar"),
        "partial_update": (services.AGREEMENT_EDITORS, "Changing a calendar"),
    }

    queryset = Calendar.objects.all()
    serializer_class = CalendarSerializer
    write_serializer_class = CalendarSerializer
    search_fields = ["name"]
    ordering_fields = ["name"]

    def create_object(self, data):
        return services.create_calendar(actor=self.request.user, **data)

    def update_object(self, instance, data):
        return services.update_calendar(actor=self.request.user, calendar=instance, **data)


class CreditTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditTier
        fields = ["below_percent", "credit_percent"]


class ServiceLevelTargetSerializer(serializers.ModelSerializer):
    calendar_name = serializers.CharField(source="calendar.name", read_only=True)
    credit_tiers = CreditTierSerializer(many=True, read_only=True)
    description = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = ServiceLevelTarget
        fields = [
            "id",
            "agreement",
            "metric",
            "service",
            "priority",
            "threshold_minutes",
            "attainment_percent",
            "calendar",
            "calendar_name",
            "credit_tiers",
            "description",
        ]


class ServiceLevelTargetWriteSerializer(ScopedWriteSerializer):
    credit_tiers = CreditTierSerializer(many=True, required=False)

    class Meta:
        model = ServiceLevelTarget
        fields = [
            "agreement",
            "metric",
            "service",
            "priority",
            "threshold_minutes",
            "attainment_percent",
            "calendar",
            "credit_tiers",
        ]
        validators = []


class ServiceLevelTargetViewSet(ServiceBackedViewSet):
    """Service level targets per agreement, with a contract's credit schedule."""

    write_roles = {"create": (services.AGREEMENT_EDITORS, "Adding a service level target")}

    queryset = ServiceLevelTarget.objects.select_related("calendar").prefetch_related(
        "credit_tiers"
    )
    serializer_class = ServiceLevelTargetSerializer
    write_serializer_class = ServiceLevelTargetWriteSerializer
    filterset_fields = ["agreement", "metric", "priority"]
    ordering_fields = ["agreement", "metric", "priority"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        tiers = [(t["below_percent"], t["credit_percent"]) for t in data.pop("credit_tiers", [])]
        return services.add_target(actor=self.request.user, credit_tiers=tiers, **data)


class ChangeClauseSerializer(ScopedWriteSerializer):
    class Meta:
        model = ChangeClause
        fields = [
            "id",
            "agreement",
            "scope",
            "requires_approval",
            "notice_days",
            "repricing",
            "text",
        ]


class ChangeClauseViewSet(ServiceBackedViewSet):
    """A contract's change clauses: approval or notice, and repricing."""

    write_roles = {"create": (services.AGREEMENT_EDITORS, "Adding a change clause")}

    queryset = ChangeClause.objects.all()
    serializer_class = ChangeClauseSerializer
    write_serializer_class = ChangeClauseSerializer
    filterset_fields = ["agreement", "scope"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.add_change_clause(actor=self.request.user, **data)


ROUTES = [
    ("agreements", AgreementViewSet, "agreement"),
    ("agreement-lines", AgreementLineViewSet, "agreementline"),
    ("calendars", CalendarViewSet, "calendar"),
    ("service-level-targets", ServiceLevelTargetViewSet, "serviceleveltarget"),
    ("change-clauses", ChangeClauseViewSet, "changeclause"),
    *ORDER_ROUTES,  # customer orders (issue 15)
]
