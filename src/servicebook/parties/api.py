"""REST API for customers and contacts."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response

from servicebook.core.api import (
    PermissionFirstMixin,
    ScopedInputSerializer,
    ScopedWriteSerializer,
    ServiceBackedViewSet,
    StepActionMixin,
)
from servicebook.core.audience import ShownActorField, ShownNoteField, person_name
from servicebook.core.countries import country_code
from servicebook.core.models import User
from servicebook.core.roles import Role, is_provider_staff
from servicebook.core.schema import OmittableFieldsMixin, writes_answer
from servicebook.core.services import require_role
from servicebook.core.tenancy import customer_of
from servicebook.parties import provider as provider_settings
from servicebook.parties import selectors, services
from servicebook.parties.filters import CONTACT_ORDERING, ContactFilter, CustomerFilter
from servicebook.parties.models import (
    CheckType,
    Commitment,
    CommitmentBreach,
    Contact,
    Customer,
    CustomerEvent,
    CustomerStatus,
    DueDiligence,
    DueDiligenceCheck,
    ExternalSupplier,
    Feedback,
    JurisdictionRule,
    Objective,
    Provider,
    ProviderSettingChange,
    StatusReason,
    WaiverReason,
)
from servicebook.web.serializers import CostAwareSerializer

STATUS_ROLES = (*services.CUSTOMER_EDITORS, Role.FINANCE)
BREACH_ROLES = (*services.CUSTOMER_EDITORS, Role.FINANCE)


class RelationshipOwnerSerializer(OmittableFieldsMixin, serializers.Serializer):
    """Who owns the relationship: staff get the user's id too; a customer user gets the name
    and e-mail only (its contact person at the provider)."""

    omittable_fields = ("id",)
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()
    email = serializers.CharField(read_only=True)  # blank when the user has none

    def get_name(self, obj) -> str:
        return person_name(obj)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not is_provider_staff(request.user):
            data.pop("id", None)
        return data


class CustomerSerializer(OmittableFieldsMixin, serializers.ModelSerializer):
    billing_currency = serializers.CharField(read_only=True)
    relationship_owner = RelationshipOwnerSerializer(read_only=True, allow_null=True)
    # blank unless the customer is suspended or terminated
    status_reason = serializers.ChoiceField(
        choices=StatusReason.choices, allow_blank=True, read_only=True
    )
    #: the provider's own assessment, left out for customer users
    omittable_fields = ("in_difficulty", "difficulty_reason")
    agreement_kind = serializers.SerializerMethodField()
    funding_source = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            *Customer.EDITABLE_FIELDS,
            "relationship_owner",
            "status",
            "status_reason",
            "in_difficulty",
            "difficulty_reason",
            "billing_currency",
            "agreement_kind",
            "funding_source",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "status_reason",
            "in_difficulty",
            "difficulty_reason",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance):
        """Leave out the fields that do not apply to this customer's kind."""
        data = super().to_representation(instance)
        for name in instance.policy.foreign_fields:
            data.pop(name, None)
        request = self.context.get("request")
        if request is None or not is_provider_staff(request.user):
            data.pop("in_difficulty", None)  # the provider's own assessment
            data.pop("difficulty_reason", None)
        return data

    def get_agreement_kind(self, obj) -> str:
        return obj.policy.agreement_kind

    def get_funding_source(self, obj) -> str:
        return obj.policy.funding_source


class CustomerWriteSerializer(ScopedWriteSerializer):
    #: any user's id: the service says why one who is not provider staff cannot own it
    relationship_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Customer
        fields = [*Customer.EDITABLE_FIELDS, "relationship_owner"]
        # Model-level checks run in the service (full_clean), once, for API and forms alike.
        validators = []


class CustomerStatusSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=CustomerStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DifficultySerializer(serializers.Serializer):
    in_difficulty = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CustomerEventSerializer(serializers.ModelSerializer):
    actor = ShownActorField()  # as the requesting user may see it (core.audience)
    note = ShownNoteField()

    class Meta:
        model = CustomerEvent
        fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]


@writes_answer(CustomerSerializer, CustomerWriteSerializer)
class CustomerViewSet(ServiceBackedViewSet):
    """Customers: provider staff see all, a customer user sees only its own customer."""

    write_roles = services.CUSTOMER_EDITORS

    queryset = Customer.objects.select_related("provider", "relationship_owner")
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

    @extend_schema(request=CustomerStatusSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"], serializer_class=CustomerStatusSerializer)
    def status(self, request, pk=None):
        """Move the customer along its lifecycle (with a reason when suspending/terminating)."""
        require_role(request.user, *STATUS_ROLES, action="Changing a customer's status")
        customer = self.get_object()
        serializer = CustomerStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.change_customer_status(
            actor=request.user, customer=customer, **serializer.validated_data
        )
        return Response(CustomerSerializer(customer, context={"request": request}).data)

    @extend_schema(request=DifficultySerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"], serializer_class=DifficultySerializer)
    def difficulty(self, request, pk=None):
        """Flag the relationship in difficulty (with a reason) or clear the flag."""
        require_role(request.user, *services.CUSTOMER_EDITORS, action="Flagging a relationship")
        customer = self.get_object()
        serializer = DifficultySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["in_difficulty"]:
            customer = services.flag_in_difficulty(
                actor=request.user, customer=customer, reason=data["reason"]
            )
        else:
            customer = services.clear_in_difficulty(
                actor=request.user, customer=customer, note=data["reason"]
            )
        return Response(CustomerSerializer(customer, context={"request": request}).data)

    @extend_schema(responses=CustomerEventSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        serializer_class=CustomerEventSerializer,
        pagination_class=None,
        filter_backends=[],
    )
    def events(self, request, pk=None):
        """The customer's history: every lifecycle step with who, when and why."""
        customer = self.get_object()
        events = customer.events.select_related("actor")
        return Response(
            CustomerEventSerializer(events, many=True, context={"request": request}).data
        )


class CheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = DueDiligenceCheck
        fields = ["id", "check_type", "outcome", "evidence", "checked_at"]


class DueDiligenceSerializer(serializers.ModelSerializer):
    checks = CheckSerializer(many=True, read_only=True)
    summary = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = DueDiligence
        fields = [
            "id",
            "customer",
            "status",
            "summary",
            "request_reason",
            "waiver_reason",
            "waiver_explanation",
            "concluded_at",
            "expires_on",
            "checks",
        ]

    expires_on = serializers.SerializerMethodField()

    def get_expires_on(self, obj) -> str | None:
        expires = obj.expires_on()
        return None if expires is None else expires.isoformat()


class DueDiligenceStartSerializer(ScopedInputSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why a new due diligence is requested (needed after a first one).",
    )


class WaiverSerializer(ScopedInputSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    reason = serializers.ChoiceField(choices=WaiverReason.choices)
    explanation = serializers.CharField()


class RecordCheckSerializer(serializers.Serializer):
    check_type = serializers.ChoiceField(choices=CheckType.choices)
    outcome = serializers.ChoiceField(choices=["passed", "failed"])
    evidence = serializers.CharField()


class DueDiligenceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Due diligence: start, record each check with evidence, conclude, or waive."""

    queryset = DueDiligence.objects.select_related("customer__provider").prefetch_related("checks")
    serializer_class = DueDiligenceSerializer
    filterset_fields = ["customer", "status"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def _data(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context={"request": self.request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _out(self, due_diligence, status_code=200):
        due_diligence = self.get_queryset().get(pk=due_diligence.pk)
        return Response(DueDiligenceSerializer(due_diligence).data, status=status_code)

    def initial(self, request, *args, **kwargs):
        """Every write here is the provider's: the role is checked before the body is read."""
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            require_role(request.user, *services.CUSTOMER_EDITORS, action="Due diligence")

    @extend_schema(request=DueDiligenceStartSerializer, responses={201: DueDiligenceSerializer})
    def create(self, request):
        data = self._data(DueDiligenceStartSerializer)
        due_diligence = services.start_due_diligence(actor=request.user, **data)
        return self._out(due_diligence, 201)

    @extend_schema(request=WaiverSerializer, responses={201: DueDiligenceSerializer})
    @action(detail=False, methods=["post"], serializer_class=WaiverSerializer)
    def waive(self, request):
        """Record that due diligence was not carried out, and why."""
        data = self._data(WaiverSerializer)
        return self._out(services.waive_due_diligence(actor=request.user, **data), 201)

    @extend_schema(request=RecordCheckSerializer, responses=DueDiligenceSerializer)
    @action(detail=True, methods=["post"], serializer_class=RecordCheckSerializer)
    def checks(self, request, pk=None):
        """Record one check as passed or failed with its evidence."""
        due_diligence = self.get_object()
        data = self._data(RecordCheckSerializer)
        check = get_object_or_404(due_diligence.checks, check_type=data["check_type"])
        services.record_check(
            actor=request.user, check=check, outcome=data["outcome"], evidence=data["evidence"]
        )
        return self._out(due_diligence)

    @extend_schema(request=None, responses=DueDiligenceSerializer)
    @action(detail=True, methods=["post"], serializer_class=serializers.Serializer)
    def conclude(self, request, pk=None):
        """Completed when every check passed; failed when any failed."""
        due_diligence = services.conclude_due_diligence(
            actor=request.user, due_diligence=self.get_object()
        )
        return self._out(due_diligence)


class CommitmentBreachSerializer(serializers.ModelSerializer):
    recorded_by = serializers.StringRelatedField(allow_null=True)  # none when detected

    class Meta:
        model = CommitmentBreach
        fields = [
            "id",
            "commitment",
            "kind",
            "occurred_on",
            "detail",
            "recorded_at",
            "recorded_by",
            "resolved_at",
            "resolution_note",
        ]


class CommitmentSerializer(ScopedWriteSerializer):
    breaches = CommitmentBreachSerializer(many=True, read_only=True)

    class Meta:
        model = Commitment
        fields = [
            "id",
            "customer",
            "kind",
            "amount_per_period",
            "service_level",
            "starts",
            "ends",
            "note",
            "breaches",
        ]


class CommitmentBreachInputSerializer(serializers.Serializer):
    on = serializers.DateField()
    note = serializers.CharField()


class ResolveBreachSerializer(serializers.Serializer):
    breach = serializers.IntegerField()
    note = serializers.CharField()


class DetectSerializer(serializers.Serializer):
    on = serializers.DateField(required=False)


class FundingRowSerializer(serializers.Serializer):
    """One internal customer's month in the funding report (its answer, for the schema)."""

    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    currency = serializers.CharField()
    consumption_at_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    funding = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    over_funding = serializers.BooleanField()
    over_by = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class CommitmentViewSet(ServiceBackedViewSet):
    """Internal customers' funding and exclusivity commitments and their breaches."""

    write_roles = services.CUSTOMER_EDITORS
    queryset = Commitment.objects.select_related("customer").prefetch_related(
        "breaches__recorded_by"
    )
    serializer_class = CommitmentSerializer
    write_serializer_class = CommitmentSerializer
    filterset_fields = ["customer", "kind"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.add_commitment(actor=self.request.user, **data)

    @extend_schema(request=CommitmentBreachInputSerializer, responses=CommitmentSerializer)
    @action(detail=True, methods=["post"], serializer_class=CommitmentBreachInputSerializer)
    def breach(self, request, pk=None):
        """Report that the commitment was broken (e.g. an external competitor was used): one
        more breach in its history."""
        require_role(request.user, *BREACH_ROLES, action="Reporting a breach")
        commitment = self.get_object()
        serializer = CommitmentBreachInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.report_commitment_breach(
            actor=request.user, commitment=commitment, **serializer.validated_data
        )
        commitment = self.get_queryset().get(pk=commitment.pk)
        return Response(CommitmentSerializer(commitment, context={"request": request}).data)

    @extend_schema(request=ResolveBreachSerializer, responses=CommitmentSerializer)
    @action(detail=True, methods=["post"], serializer_class=ResolveBreachSerializer)
    def resolve(self, request, pk=None):
        """Mark one of the commitment's breaches resolved (it stays in the history)."""
        require_role(request.user, *BREACH_ROLES, action="Resolving a breach")
        commitment = self.get_object()
        serializer = ResolveBreachSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        breach = get_object_or_404(commitment.breaches, pk=serializer.validated_data["breach"])
        services.resolve_commitment_breach(
            actor=request.user, breach=breach, note=serializer.validated_data["note"]
        )
        commitment = self.get_queryset().get(pk=commitment.pk)
        return Response(CommitmentSerializer(commitment, context={"request": request}).data)

    @extend_schema(request=DetectSerializer, responses=CommitmentBreachSerializer(many=True))
    @action(
        detail=False, methods=["post"], serializer_class=DetectSerializer, pagination_class=None
    )
    def detect(self, request):
        """Record consumption over funding as breaches, once per month."""
        require_role(request.user, *BREACH_ROLES, action="Detecting breaches")
        serializer = DetectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        found = services.detect_funding_breaches(
            actor=request.user, on=serializer.validated_data.get("on")
        )
        return Response(CommitmentBreachSerializer(found, many=True).data)

    @extend_schema(responses=FundingRowSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def funding_report(self, request):
        """Internal customers' monthly consumption at cost against their funding."""
        rows = selectors.funding_report(request.user)
        return Response(
            [
                {
                    "customer": row.customer.pk,
                    "customer_name": row.customer.name,
                    "currency": row.currency,
                    "consumption_at_cost": str(row.consumption),
                    "funding": None if row.funding is None else str(row.funding),
                    "over_funding": row.over,
                    "over_by": None if row.over_by is None else str(row.over_by),
                }
                for row in rows
            ]
        )


class ObjectiveSerializer(ScopedWriteSerializer):
    class Meta:
        model = Objective
        fields = ["id", "title", "description", "customers", "services"]


class ObjectiveViewSet(ServiceBackedViewSet):
    """Organization objectives shared with internal customers and served by services."""

    write_roles = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)

    queryset = Objective.objects.prefetch_related("customers", "services")
    serializer_class = ObjectiveSerializer
    write_serializer_class = ObjectiveSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        queryset = self.queryset
        if not is_provider_staff(user):
            own = customer_of(user)
            queryset = queryset.filter(customers=own) if own else queryset.none()
        return queryset

    def create_object(self, data):
        customers, services_ = data.pop("customers", []), data.pop("services", [])
        return services.create_objective(
            actor=self.request.user,
            provider=Provider.current(),
            customers=customers,
            services=services_,
            **data,
        )


class FollowUpSerializer(serializers.Serializer):
    """What a piece of feedback proposed (R15): an improvement item or a design revision."""

    kind = serializers.CharField()
    label = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    link = serializers.CharField()


class FeedbackSerializer(ScopedWriteSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)
    follow_ups = serializers.SerializerMethodField()

    class Meta:
        model = Feedback
        fields = [
            "id",
            "customer",
            "service",
            "service_name",
            "period",
            "topic",
            "score",
            "comment",
            "created_at",
            "answer",
            "answered_at",
            "resolved_at",
            "follow_ups",
        ]
        read_only_fields = ["answer", "answered_at", "resolved_at"]
        validators = []

    @extend_schema_field(FollowUpSerializer(many=True))
    def get_follow_ups(self, obj) -> list[dict]:
        return selectors.feedback_follow_ups(obj)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField()


class FeedbackViewSet(StepActionMixin, ServiceBackedViewSet):
    """Satisfaction surveys, design feedback and complaints; customer users answer their own.
    Each shows what it proposed (``follow_ups``, R15); staff answer complaints (``answer``)."""

    queryset = Feedback.objects.select_related("service").prefetch_related(
        *selectors.FOLLOW_UP_PREFETCH
    )
    serializer_class = FeedbackSerializer
    write_serializer_class = FeedbackSerializer
    filterset_fields = ["customer", "service", "period", "topic"]
    http_method_names = ["get", "post", "head", "options"]
    write_roles = {"answer": (services.CUSTOMER_EDITORS, "Answering a complaint")}
    step_object = "complaint"
    step_answer_class = FeedbackSerializer

    def create_object(self, data):
        return services.submit_feedback(actor=self.request.user, **data)

    @extend_schema(request=AnswerSerializer, responses=FeedbackSerializer)
    @action(detail=True, methods=["post"], serializer_class=AnswerSerializer)
    def answer(self, request, pk=None):
        from servicebook.parties.complaints import answer_complaint

        return self.step(request, answer_complaint, AnswerSerializer)


class JurisdictionRuleSerializer(serializers.ModelSerializer):
    allowed_locations = serializers.ListField(
        child=serializers.CharField(max_length=2, validators=[country_code]),
        allow_empty=True,
        help_text="ISO country codes where data may be stored (may be empty: nowhere).",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    class Meta:
        model = JurisdictionRule
        fields = ["id", "jurisdiction", "allowed_locations", "note"]
        validators = []


class JurisdictionRuleViewSet(ServiceBackedViewSet):
    """Where each jurisdiction allows customer data to be stored."""

    write_roles = services.JURISDICTION_EDITORS

    queryset = JurisdictionRule.objects.all()
    serializer_class = JurisdictionRuleSerializer
    write_serializer_class = JurisdictionRuleSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return self.queryset if is_provider_staff(self.request.user) else self.queryset.none()

    def create_object(self, data):
        return services.set_jurisdiction_rule(actor=self.request.user, **data)


class ContactSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "customer", *Contact.EDITABLE_FIELDS, "roles"]


class ContactWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Contact
        fields = ["customer", *Contact.EDITABLE_FIELDS]


@writes_answer(ContactSerializer, ContactWriteSerializer)
class ContactViewSet(ServiceBackedViewSet):
    write_roles = services.CUSTOMER_EDITORS
    queryset = Contact.objects.select_related("customer")
    serializer_class = ContactSerializer
    write_serializer_class = ContactWriteSerializer
    filterset_class = ContactFilter
    search_fields = ["name", "email"]
    ordering_fields = CONTACT_ORDERING

    def create_object(self, data):
        customer = data.pop("customer")
        return services.create_contact(actor=self.request.user, customer=customer, **data)

    def update_object(self, instance, data):
        return services.update_contact(actor=self.request.user, contact=instance, **data)


class ExternalSupplierSerializer(ScopedWriteSerializer):
    class Meta:
        model = ExternalSupplier
        fields = ["id", "customer", "service", "supplier", "since", "note"]


class ExternalSupplierViewSet(ServiceBackedViewSet):
    """External suppliers internal customers use: under exclusivity, each is a breach."""

    write_roles = (*services.CUSTOMER_EDITORS, Role.FINANCE)
    queryset = ExternalSupplier.objects.select_related("customer", "service")
    serializer_class = ExternalSupplierSerializer
    write_serializer_class = ExternalSupplierSerializer
    filterset_fields = ["customer", "service"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.record_external_supplier(actor=self.request.user, **data)


class ProviderSerializer(CostAwareSerializer):
    """The provider's settings; rates are fractions (0.05 = 5 %). Margins: finance and the
    admin only."""

    class Meta:
        model = Provider
        fields = ["id", *provider_settings.SETTINGS, "updated_at"]
        read_only_fields = fields
        margin_fields = list(provider_settings.MARGINS)


class ProviderWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = list(provider_settings.SETTINGS)
        validators = []  # the service runs the model checks once


class ProviderSettingChangeSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    changed_by = serializers.SerializerMethodField()

    class Meta:
        model = ProviderSettingChange
        fields = ["field", "label", "old_value", "new_value", "changed_by", "changed_at", "note"]

    def get_label(self, obj) -> str:
        return provider_settings.LABELS.get(obj.field, obj.field)

    def get_changed_by(self, obj) -> str:
        return person_name(obj.changed_by) if obj.changed_by else "system"


@writes_answer(ProviderSerializer, ProviderWriteSerializer)
class ProviderViewSet(
    PermissionFirstMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The provider's policy settings: provider staff read them (margins: finance and the admin),
    the provider admin changes them; every change is kept (``changes``)."""

    write_roles = provider_settings.SETTING_EDITORS
    queryset = Provider.objects.order_by("pk")
    serializer_class = ProviderSerializer
    filter_backends: list = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not is_provider_staff(request.user):
            raise DRFPermissionDenied("The provider's settings are for provider staff.")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return ProviderWriteSerializer
        return super().get_serializer_class()

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        provider, _rows = provider_settings.update_provider_settings(
            actor=request.user, provider=instance, **serializer.validated_data
        )
        return Response(ProviderSerializer(provider, context={"request": request}).data)

    @extend_schema(responses=ProviderSettingChangeSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        serializer_class=ProviderSettingChangeSerializer,
        pagination_class=None,
    )
    def changes(self, request, pk=None):
        """Who changed which setting, when, from what to what: newest first."""
        provider = self.get_object()
        rows = provider_settings.history_for(provider, request.user)
        return Response(ProviderSettingChangeSerializer(rows, many=True).data)


ROUTES = [
    ("customers", CustomerViewSet, "customer"),
    ("providers", ProviderViewSet, "provider"),
    ("contacts", ContactViewSet, "contact"),
    ("due-diligences", DueDiligenceViewSet, "duediligence"),
    ("commitments", CommitmentViewSet, "commitment"),
    ("objectives", ObjectiveViewSet, "objective"),
    ("feedback", FeedbackViewSet, "feedback"),
    ("jurisdiction-rules", JurisdictionRuleViewSet, "jurisdictionrule"),
    ("external-suppliers", ExternalSupplierViewSet, "externalsupplier"),
]
