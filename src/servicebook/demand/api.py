"""REST API for demand and investment requests, their challenge or check, and capacity pools."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.catalog.models import Service
from servicebook.core import params
from servicebook.core.api import ScopedWriteSerializer, ServiceBackedViewSet, StepActionMixin
from servicebook.core.audience import ShownActorField, ShownNoteField
from servicebook.core.errors import PermissionDenied
from servicebook.core.roles import is_provider_staff
from servicebook.core.services import require_role
from servicebook.demand import selectors, services, strategy
from servicebook.demand.filters import DEMAND_ORDERING, DemandFilter
from servicebook.demand.models import (
    Alternative,
    BusinessCase,
    CapacityNeed,
    CapacityPool,
    DemandEvent,
    DemandObjective,
    DemandRequest,
    ExternalCheck,
    Requirement,
)
from servicebook.parties.models import Contact, Objective
from servicebook.policy import REFUSAL_LABELS
from servicebook.web.serializers import CostAwareSerializer


class RequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Requirement
        fields = ["id", "text"]


class AlternativeSerializer(serializers.ModelSerializer):
    meets_every_requirement = serializers.BooleanField(read_only=True)

    class Meta:
        model = Alternative
        fields = [
            "id",
            "name",
            "description",
            "cost",
            "meets",
            "meets_every_requirement",
            "is_requested",
        ]


class BusinessCaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = BusinessCase
        fields = [
            "expected_business_outcomes",
            "yearly_net_benefit",
            "years",
            "investment",
            "discount_rate",
            "npv",
            "payback_years",
            "roi_percent",
        ]


class ExternalCheckSerializer(CostAwareSerializer):
    class Meta:
        model = ExternalCheck
        fields = [
            "legal",
            "legal_note",
            "feasible",
            "feasibility_note",
            "quoted_price",
            "estimated_cost",
            "minimum_margin",
            "profitable",
            "checked_at",
        ]
        # The provider's cost and margin are its own business (R7); so is its profitability.
        cost_fields = ["estimated_cost", "minimum_margin", "profitable"]
        margin_fields = ["minimum_margin", "profitable"]


class ObjectiveServedSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="objective.title", read_only=True)

    class Meta:
        model = DemandObjective
        fields = ["objective", "title", "how"]


class ObjectiveLinkInput(serializers.Serializer):
    """An objective a request serves and how (R9)."""

    objective = serializers.PrimaryKeyRelatedField(queryset=Objective.objects.all())
    how = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RefuseInput(serializers.Serializer):
    ground = serializers.ChoiceField(
        choices=[(g.value, label) for g, label in REFUSAL_LABELS.items()],
        help_text="Allowed by the customer's policy: see ``refusal_grounds`` on the request.",
    )
    reason = serializers.CharField(help_text="Why: the customer reads it.")


class CapacityNeedSerializer(serializers.ModelSerializer):
    pool_name = serializers.CharField(source="pool.name", read_only=True)
    unit = serializers.CharField(source="pool.unit", read_only=True)

    class Meta:
        model = CapacityNeed
        fields = ["id", "pool", "pool_name", "unit", "quantity", "reserved"]


class DemandSerializer(CostAwareSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    requester_name = serializers.CharField(source="requester.name", read_only=True)
    check = serializers.SerializerMethodField()
    requirements = RequirementSerializer(many=True, read_only=True)
    alternatives = AlternativeSerializer(many=True, read_only=True)
    business_case = serializers.SerializerMethodField()
    external_check = serializers.SerializerMethodField()
    capacity_needs = CapacityNeedSerializer(many=True, read_only=True)
    cheaper_by_percent = serializers.SerializerMethodField()
    justified_by_name = serializers.CharField(
        source="justified_by.get_full_name", read_only=True, default=None, allow_null=True
    )
    approval_blockers = serializers.SerializerMethodField()
    investment = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        read_only=True,
        help_text="The chosen option's cost once one is chosen, else the required investment: "
        "what the business case is figured on.",
    )
    justification_reasons = serializers.SerializerMethodField()
    objectives = ObjectiveServedSerializer(source="objective_links", many=True, read_only=True)
    refusal_grounds = serializers.SerializerMethodField()

    class Meta:
        model = DemandRequest
        fields = [
            "id",
            "reference",
            "customer",
            "customer_name",
            "requester",
            "requester_name",
            "kind",
            "service",
            "title",
            "description",
            "expected_outcomes",
            "required_investment",
            "investment",
            "currency",
            "positioning",
            "status",
            "check",
            "requirements",
            "alternatives",
            "chosen",
            "business_case",
            "external_check",
            "capacity_needs",
            "cheaper_by_percent",
            "justification",
            "justified_by_name",
            "justified_at",
            "justified_for",
            "justification_reasons",
            "approved_by_contact",
            "rejection_reason",
            "design_service",
            "customer_joins_design",
            "approval_blockers",
            "objectives",
            "refusal_grounds",
            "created_at",
        ]

    def get_refusal_grounds(self, obj) -> list[str]:
        """The grounds the provider may refuse this request on (its customer's policy)."""
        return [ground for ground, _ in strategy.refusal_grounds(obj)]

    def get_check(self, obj) -> str:
        return obj.customer.policy.demand_check

    def get_business_case(self, obj) -> dict | None:
        case = getattr(obj, "business_case", None)
        return BusinessCaseSerializer(case).data if case else None

    def get_external_check(self, obj) -> dict | None:
        check = getattr(obj, "external_check", None)
        return ExternalCheckSerializer(check, context=self.context).data if check else None

    def get_cheaper_by_percent(self, obj) -> str | None:
        percent = services.difference_percent(obj)
        return None if percent is None else str(percent)

    def get_justification_reasons(self, obj) -> list[str]:
        """Why the request needs a senior-management justification, covered or not."""
        return [reason for _, reason in services.justification_reasons(obj)]

    def get_approval_blockers(self, obj) -> list[str]:
        if obj.status not in services.OPEN:
            return []
        request = self.context.get("request")
        return services.blockers_shown_to(getattr(request, "user", None), obj)


class DemandWriteSerializer(ScopedWriteSerializer):
    requirements = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list
    )
    requester = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, default=None
    )
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True, default=None
    )
    objectives = ObjectiveLinkInput(
        many=True,
        required=False,
        default=list,
        help_text="Internal requests: at least one objective its customer shares, and how it "
        "serves it; external requests: none.",
    )

    class Meta:
        model = DemandRequest
        fields = [
            "customer",
            "requester",
            "kind",
            "service",
            "title",
            "description",
            "expected_outcomes",
            "required_investment",
            "positioning",
            "requirements",
            "objectives",
        ]
        validators = []


class BusinessCaseInput(serializers.Serializer):
    expected_business_outcomes = serializers.CharField()
    yearly_net_benefit = serializers.DecimalField(max_digits=18, decimal_places=2)
    years = serializers.IntegerField(min_value=1, max_value=30, default=5)


class AlternativeInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    cost = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal(0))
    description = serializers.CharField(required=False, allow_blank=True, default="")
    meets = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Requirement.objects.all(), required=False, default=list
    )


class ChooseInput(serializers.Serializer):
    alternative = serializers.PrimaryKeyRelatedField(queryset=Alternative.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="")


class JustifyInput(serializers.Serializer):
    justification = serializers.CharField()


class ExternalCheckInput(serializers.Serializer):
    legal = serializers.BooleanField()
    legal_note = serializers.CharField(required=False, allow_blank=True, default="")
    feasible = serializers.BooleanField()
    feasibility_note = serializers.CharField(required=False, allow_blank=True, default="")
    quoted_price = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal(0))
    estimated_cost = serializers.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal(0))
    suspend_customer = serializers.BooleanField(required=False, default=False)


class CapacityNeedInput(serializers.Serializer):
    pool = serializers.PrimaryKeyRelatedField(queryset=CapacityPool.objects.all())
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2)


class ApproveInput(serializers.Serializer):
    approver = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=40, default="declined")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DemandEventSerializer(serializers.ModelSerializer):
    actor = ShownActorField()  # as the requesting user may see it (core.audience)
    note = ShownNoteField()

    class Meta:
        model = DemandEvent
        fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]


def demand_queryset():
    return DemandRequest.objects.select_related(
        "customer__provider",
        "requester",
        "justified_by",
        "chosen",
        "business_case",
        "external_check",
    ).prefetch_related(
        "requirements",
        Prefetch("alternatives", queryset=Alternative.objects.prefetch_related("meets")),
        Prefetch("capacity_needs", queryset=CapacityNeed.objects.select_related("pool")),
        Prefetch("objective_links", queryset=DemandObjective.objects.select_related("objective")),
    )


def _may_choose(user, demand) -> None:
    """Who may choose an option, asked of the demand before the body is read."""
    if not services.may_choose(user, demand):
        raise PermissionDenied(
            "Choosing an option needs one of these roles: "
            + ", ".join(services.DEMAND_MANAGERS)
            + ", or a user of the requesting customer"
        )


class DemandViewSet(StepActionMixin, ServiceBackedViewSet):
    """Demand and investment requests: internal ones are challenged (business case,
    alternatives, senior-management justification); external ones are checked (legal,
    possible, profitable). Customer users may submit requests and choose an option."""

    queryset = DemandRequest.objects.all()
    serializer_class = DemandSerializer
    write_serializer_class = DemandWriteSerializer
    filterset_class = DemandFilter
    search_fields = ["reference", "title", "customer__name"]
    ordering_fields = DEMAND_ORDERING
    http_method_names = ["get", "post", "head", "options"]
    step_object = "demand"
    step_answer_class = DemandSerializer
    # Checked before the body is read (403 whatever the body). ``create`` and ``choose`` are the
    # customer's too (its own users ask and choose); ``justify`` is senior management's only:
    # ``initial`` and ``choose`` ask the services' rules for those before reading the body.
    write_roles = {
        action: (services.DEMAND_MANAGERS, what)
        for action, what in (
            ("business_case", "Recording a business case"),
            ("alternatives", "Adding an alternative"),
            ("external_check", "Checking a request"),
            ("capacity_needs", "Planning capacity"),
            ("approve", "Approving a demand"),
            ("reject", "Rejecting a demand"),
            ("refuse", "Refusing a request"),
            ("objectives", "Naming an objective the request serves"),
        )
    }

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        user = request.user
        if self.action == "create" and is_provider_staff(user):
            # a customer user asks for its own organization (the customer field is scoped)
            require_role(user, *services.DEMAND_MANAGERS, action="Requesting a service")
        elif self.action == "justify" and not services.may_justify(user):
            raise PermissionDenied(
                "Recording a senior-management justification needs the senior_manager role"
            )

    def get_queryset(self):
        return demand_queryset().visible_to(self.request.user)

    def create_object(self, data):
        customer = data.pop("customer")
        links = [(link["objective"], link["how"]) for link in data.pop("objectives", [])]
        return services.create_demand(
            actor=self.request.user, customer=customer, objectives=links, **data
        )

    @action(detail=True, methods=["post"])
    def objectives(self, request, pk=None):
        """Name a further organization objective the request serves, and how (internal)."""
        return self.step(request, strategy.serve_objective, ObjectiveLinkInput)

    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse the request on a ground its customer's policy allows, with the reason the
        customer reads: an internal request against the organization's objectives or its
        profitability, any request that is illegal or impossible."""
        return self.step(request, strategy.refuse_demand, RefuseInput)

    @action(detail=True, methods=["post"], url_path="business-case")
    def business_case(self, request, pk=None):
        """Record expected outcomes and ROI at the provider's discount rate (internal)."""
        return self.step(request, services.record_business_case, BusinessCaseInput)

    @action(detail=True, methods=["post"])
    def alternatives(self, request, pk=None):
        """Add an alternative with its cost and the requirements it meets (internal)."""
        return self.step(request, services.add_alternative, AlternativeInput)

    @action(detail=True, methods=["post"])
    def choose(self, request, pk=None):
        """The customer chooses an option (a costlier one than a compliant one holds it)."""
        return self.step(request, services.choose_alternative, ChooseInput, refuse=_may_choose)

    @action(detail=True, methods=["post"])
    def justify(self, request, pk=None):
        """A senior manager records the senior-management justification."""
        return self.step(request, services.record_justification, JustifyInput)

    @action(detail=True, methods=["post"], url_path="external-check")
    def external_check(self, request, pk=None):
        """Record legality, feasibility and price against cost plus margin (external)."""
        return self.step(request, services.record_external_check, ExternalCheckInput)

    @action(detail=True, methods=["post"], url_path="capacity-needs")
    def capacity_needs(self, request, pk=None):
        return self.step(request, services.set_capacity_need, CapacityNeedInput)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve: the customer's approver commits; capacity is reserved."""
        return self.step(request, services.approve_demand, ApproveInput)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self.step(request, services.reject_demand, RejectInput)

    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        demand = self.get_object()
        return Response(
            DemandEventSerializer(
                demand.events.select_related("actor"), many=True, context={"request": request}
            ).data
        )


class CapacityPoolSerializer(serializers.ModelSerializer):
    reserved = serializers.SerializerMethodField()

    class Meta:
        model = CapacityPool
        fields = [
            "id",
            "name",
            "kind",
            "unit",
            "period_start",
            "period_end",
            "capacity",
            "unit_cost",
            "currency",
            "reserved",
        ]

    def get_reserved(self, obj) -> Decimal:
        return services.reserved_in(obj)


def _amount(**kwargs):
    """A decimal shown as the API shows every amount (a string), unrounded."""
    return serializers.DecimalField(max_digits=None, decimal_places=None, read_only=True, **kwargs)


class CompetingClaimSerializer(serializers.Serializer):
    demand = serializers.CharField(source="demand.reference", help_text="The demand's reference")
    quantity = _amount()
    reserved = serializers.BooleanField(help_text="Reserved on approval, else requested")
    cost = _amount(help_text="Quantity at the pool's unit cost")
    npv = _amount(allow_null=True, help_text="The business case's NPV, if one is recorded")


class CompetitorSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer.pk")
    customer_name = serializers.CharField(source="customer.name")
    monthly_cost = _amount(help_text="Consumption at cost for the period (finance.consumption)")
    currency = serializers.CharField()
    period = serializers.CharField()
    consumption_basis = serializers.CharField(source="basis")
    budget_per_period = _amount(source="budget", allow_null=True)
    reserved = _amount()
    requested = _amount()
    best_value_per_unit = _amount(source="best_value", allow_null=True)
    demands = CompetingClaimSerializer(source="claims", many=True)


class PoolCompetitionSerializer(serializers.Serializer):
    """One pool: its capacity, what is reserved and requested, and the internal customers
    competing for it by business value."""

    pool = serializers.IntegerField(source="pool.pk")
    name = serializers.CharField(source="pool.name")
    capacity = _amount(source="pool.capacity")
    reserved = _amount()
    requested = _amount()
    left = _amount()
    competitors = CompetitorSerializer(many=True)


class CapacityPoolViewSet(ServiceBackedViewSet):
    """Capacity pools (staff hours, technology units per period): provider staff only."""

    queryset = CapacityPool.objects.all()
    serializer_class = CapacityPoolSerializer
    write_serializer_class = CapacityPoolSerializer
    filterset_fields = ["kind"]
    http_method_names = ["get", "post", "head", "options"]
    write_roles = services.DEMAND_MANAGERS  # as ``create_pool`` requires

    def create_object(self, data):
        return services.create_pool(actor=self.request.user, **data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "period", str, description="The month (YYYY-MM) of consumption; default this month"
            )
        ],
        responses=PoolCompetitionSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def competition(self, request):
        """Per pool: internal customers competing, by business value, with cost and funding."""
        period = params.period(request.query_params.get("period"))  # None: this month
        pools = selectors.capacity_competition(period) if self.get_queryset().exists() else []
        return Response(PoolCompetitionSerializer(pools, many=True).data)


ROUTES = [
    ("demands", DemandViewSet, "demandrequest"),
    ("capacity-pools", CapacityPoolViewSet, "capacitypool"),
]
