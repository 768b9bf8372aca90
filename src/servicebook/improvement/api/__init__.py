"""REST API of the improvement register, relationship health, review packs and the dashboard.

What a customer user receives of an improvement follows its policy (R14): the detail of the plan
when it takes part in it, else the expected results and progress only. Cost goes to those who
may see cost, profitability and internal notes to provider staff only (R7). This module holds
the register (items and their actions) and ``ROUTES``; ``reviews`` holds relationship health,
review packs, the dashboard and service reviews.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.catalog.models import Service
from servicebook.core.api import ScopedWriteSerializer, ServiceBackedViewSet, StepActionMixin
from servicebook.core.audience import ShownActorField, ShownNoteField
from servicebook.core.models import User
from servicebook.core.periods import is_period
from servicebook.core.schema import OmittableFieldsMixin, writes_answer
from servicebook.improvement import selectors, services
from servicebook.improvement.api.parity import ParityViewSet
from servicebook.improvement.api.retention import RetentionViewSet
from servicebook.improvement.api.reviews import (
    DashboardViewSet,
    HealthViewSet,
    ReviewPackViewSet,
    ServiceReviewViewSet,
    health_data,
    pack_data,
    plain,
)
from servicebook.improvement.filters import IMPROVEMENT_ORDERING, ImprovementFilter
from servicebook.improvement.models import DRIVER_LABELS, Action, Improvement, ImprovementEvent
from servicebook.parties.models import Contact, Customer, Objective
from servicebook.web.serializers import CostAwareSerializer

#: What a customer not taking part in a plan sees of it: the expected results and progress.
RESULT_FIELDS = (
    "id",
    "title",
    "status",
    "view",
    "customer",
    "customer_name",
    "services",
    "service_names",
    "expected_measure",
    "expected_direction",
    "baseline_value",
    "expected_value",
    "expected_by",
    "measured_value",
    "measured_on",
    "result_met",
    "progress",
    "created_at",
)


def _viewer(context) -> selectors.Viewer:
    seen = context.get("viewer")
    if seen is None:
        request = context.get("request")
        seen = context["viewer"] = selectors.viewer(getattr(request, "user", None))
    return seen


class CommentSerializer(serializers.Serializer):
    author = serializers.SerializerMethodField()
    body = serializers.CharField()
    at = serializers.DateTimeField()

    def get_author(self, obj) -> str:
        return obj.author.get_full_name() or obj.author.username


class ActionSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(read_only=True)
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = Action
        fields = [
            "id",
            "improvement",
            "description",
            "owner_user",
            "owner_contact",
            "owner_name",
            "due",
            "done",
            "done_at",
            "comments",
        ]


class ImprovementSerializer(CostAwareSerializer):
    view = serializers.SerializerMethodField()
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customers = serializers.SerializerMethodField()
    service_names = serializers.SerializerMethodField()
    driver_label = serializers.SerializerMethodField()
    objective_title = serializers.CharField(
        source="objective.title", read_only=True, default=None, allow_null=True
    )
    result_met = serializers.BooleanField(read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    missing_approvals = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Improvement
        fields = [
            "id",
            "title",
            "status",
            "view",
            "source",
            "driver",
            "driver_label",
            "customer",
            "customer_name",
            "customers",
            "services",
            "service_names",
            "agreement",
            "target",
            "period",
            "description",
            "objective",
            "objective_title",
            "expected_measure",
            "expected_direction",
            "baseline_value",
            "expected_value",
            "expected_by",
            "measured_value",
            "measured_on",
            "result_met",
            "result_note",
            "currency",
            "price_impact",
            "estimated_cost",
            "customer_profitability",
            "profitability_period",
            "internal_notes",
            "progress",
            "participants",
            "approvals",
            "missing_approvals",
            "actions",
            "created_at",
            "updated_at",
        ]
        cost_fields = ["estimated_cost"]
        margin_fields = ["customer_profitability", "profitability_period", "internal_notes"]

    #: a customer not taking part in the plan receives the RESULT_FIELDS only (R14)
    omittable_fields = tuple(name for name in Meta.fields if name not in RESULT_FIELDS)

    def get_view(self, obj) -> str:
        return _viewer(self.context).level(obj)

    def get_customers(self, obj) -> list[dict]:
        seen = _viewer(self.context)
        return [
            {"id": c.pk, "name": c.name}
            for c in obj.customers.all()
            if seen.staff or (seen.customer and c.pk == seen.customer.pk)
        ]

    def get_service_names(self, obj) -> list[str]:
        return [s.name for s in obj.services.all()]

    def get_driver_label(self, obj) -> str:
        return DRIVER_LABELS.get(obj.driver, "")

    def get_progress(self, obj) -> dict:
        return selectors.progress(obj)

    def get_participants(self, obj) -> list[dict]:
        seen = _viewer(self.context)
        return [
            {"contact": p.contact_id, "name": p.contact.name, "invited": p.invited}
            for p in obj.participants.all()
            if seen.staff or (seen.customer and p.contact.customer_id == seen.customer.pk)
        ]

    def get_approvals(self, obj) -> list[dict]:
        seen = _viewer(self.context)
        return [
            {"customer": a.customer_id, "contact": a.contact.name, "at": a.at}
            for a in obj.approvals.all()
            if seen.staff or (seen.customer and a.customer_id == seen.customer.pk)
        ]

    def get_missing_approvals(self, obj) -> list[str]:
        if obj.status != "proposed":
            return []
        seen = _viewer(self.context)
        return [
            c.name
            for c in selectors.missing_approvals(obj)
            if seen.staff or (seen.customer and c.pk == seen.customer.pk)
        ]

    def get_actions(self, obj) -> list[dict]:
        return ActionSerializer(obj.actions.all(), many=True, context=self.context).data

    def to_representation(self, instance):
        level = _viewer(self.context).level(instance)
        if level == selectors.RESULTS:
            fields = self.fields
            data = {}
            for name in RESULT_FIELDS:
                field = fields[name]
                attribute = field.get_attribute(instance)
                data[name] = None if attribute is None else field.to_representation(attribute)
            return data
        return super().to_representation(instance)


class ImprovementWriteSerializer(ScopedWriteSerializer):
    customers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Customer.objects.all(), required=False
    )
    services = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Service.objects.all(), required=False
    )
    objective = serializers.PrimaryKeyRelatedField(
        queryset=Objective.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Improvement
        fields = [
            "customer",
            "title",
            "source",
            "status",
            "agreement",
            "customers",
            "services",
            "description",
            "driver",
            "objective",
            "expected_measure",
            "expected_direction",
            "baseline_value",
            "expected_value",
            "expected_by",
            "currency",
            "estimated_cost",
            "price_impact",
            "internal_notes",
        ]
        validators = []


class ImprovementUpdateSerializer(ImprovementWriteSerializer):
    class Meta(ImprovementWriteSerializer.Meta):
        fields = [
            f
            for f in ImprovementWriteSerializer.Meta.fields
            if f not in ("customer", "source", "status", "agreement")
        ]


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ApproveSerializer(NoteSerializer):
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, default=None
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        fields["contact"].queryset = Contact.objects.visible_to(getattr(request, "user", None))
        return fields


class DropSerializer(serializers.Serializer):
    reason = serializers.CharField()


class VerifySerializer(NoteSerializer):
    measured_value = serializers.DecimalField(max_digits=14, decimal_places=3)
    measured_on = serializers.DateField(required=False, allow_null=True, default=None)


class ParticipantSerializer(NoteSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())


class EventSerializer(OmittableFieldsMixin, serializers.ModelSerializer):
    actor = ShownActorField()  # as the requesting user may see it (core.audience)
    note = ShownNoteField()

    class Meta:
        model = ImprovementEvent
        fields = ["at", "actor", "action", "from_state", "to_state", "reason", "note"]

    #: a customer not taking part in the plan receives the status steps only (R14)
    omittable_fields = ("actor", "action", "reason", "note")


class ProposeSerializer(serializers.Serializer):
    period = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_period(self, value):
        if value and not is_period(value):
            raise serializers.ValidationError("use YYYY-MM")
        return value


@writes_answer(ImprovementSerializer, ImprovementWriteSerializer, ImprovementUpdateSerializer)
class ImprovementViewSet(StepActionMixin, ServiceBackedViewSet):
    """The continual improvement register. Workflow: draft → proposed → approved → in
    progress → done → verified | dropped. Customer users see the items that concern them: the
    detail when they take part in the plan, else the expected results and progress only."""

    queryset = Improvement.objects.all()
    serializer_class = ImprovementSerializer
    write_serializer_class = ImprovementWriteSerializer
    filterset_class = ImprovementFilter
    search_fields = ["title"]
    ordering_fields = IMPROVEMENT_ORDERING
    step_object = "improvement"
    step_answer_class = ImprovementSerializer
    # Checked before the body is read (403 whatever the body). ``approve`` is absent on purpose:
    # a customer taking part in the plan approves it through its contact (R14); the action asks
    # ``services.refuse_approval`` of the item before reading the body.
    write_roles = {
        "create": (services.EDITORS, "Registering an improvement"),
        "update": (services.EDITORS, "Changing an improvement"),
        "partial_update": (services.EDITORS, "Changing an improvement"),
        "propose": (services.EDITORS, "Proposing an improvement"),
        "start": (services.EDITORS, "Starting an improvement"),
        "complete": (services.EDITORS, "Completing an improvement"),
        "verify": (services.EDITORS, "Verifying an improvement"),
        "drop": (services.EDITORS, "Dropping an improvement"),
        "participants": (services.EDITORS, "Adding a participant to an improvement plan"),
        "propose_retention": (services.EDITORS, "Proposing retention improvements"),
    }

    def get_queryset(self):
        return selectors.improvements_for(self.request.user).order_by("-created_at", "pk")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return ImprovementUpdateSerializer
        return super().get_serializer_class()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["viewer"] = selectors.viewer(self.request.user)
        return context

    def create_object(self, data):
        return services.create_improvement(actor=self.request.user, **data)

    def update_object(self, instance, data):
        return services.update_improvement(actor=self.request.user, improvement=instance, **data)

    @extend_schema(request=NoteSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        """draft → proposed (driver and expected result stated)."""
        return self.step(request, services.propose, NoteSerializer)

    @extend_schema(request=ApproveSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=ApproveSerializer)
    def approve(self, request, pk=None):
        """A customer taking part approves the plan (staff: for a named contact, or alone when
        no customer takes part)."""
        return self.step(
            request, services.approve_plan, ApproveSerializer, refuse=services.refuse_approval
        )

    @extend_schema(request=NoteSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self.step(request, services.start, NoteSerializer)

    @extend_schema(request=NoteSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """in progress → done (every action done)."""
        return self.step(request, services.complete, NoteSerializer)

    @extend_schema(request=VerifySerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=VerifySerializer)
    def verify(self, request, pk=None):
        """done → verified, with the measured result compared with the expectation."""
        return self.step(request, services.verify, VerifySerializer)

    @extend_schema(request=DropSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=DropSerializer)
    def drop(self, request, pk=None):
        return self.step(request, services.drop, DropSerializer)

    @extend_schema(request=ParticipantSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=ParticipantSerializer)
    def participants(self, request, pk=None):
        """Add a member (internal) or invite an external customer in difficulty."""
        return self.step(request, services.add_participant, ParticipantSerializer)

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The item's events: all of them for those taking part, status steps otherwise."""
        item = self.get_object()
        events = ImprovementEvent.objects.filter(improvement=item).select_related("actor")
        if selectors.viewer(request.user).level(item) == selectors.RESULTS:
            return Response(
                [
                    {"at": e.at, "from_state": e.from_state, "to_state": e.to_state}
                    for e in events
                    if e.to_state
                ]
            )
        return Response(EventSerializer(events, many=True, context={"request": request}).data)

    @extend_schema(
        request=ProposeSerializer,
        responses={
            201: ImprovementSerializer(many=True),
            200: ImprovementSerializer(many=True),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="propose-retention",
        serializer_class=ProposeSerializer,
        pagination_class=None,
        filter_backends=[],
    )
    def propose_retention(self, request):
        """Repeated contract breaches (2 of the last 3 months) → draft retention items."""
        serializer = ProposeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.propose_retention_improvements(
            actor=request.user, period=serializer.validated_data["period"] or None
        )
        items = self.get_queryset().filter(pk__in=[i.pk for i in created])
        return Response(
            ImprovementSerializer(items, many=True, context=self.get_serializer_context()).data,
            status=201 if created else 200,
        )


class ActionWriteSerializer(ScopedWriteSerializer):
    owner_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(customer__isnull=True),
        required=False,
        allow_null=True,
        default=None,
    )
    owner_contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, default=None
    )

    class Meta:
        model = Action
        fields = ["improvement", "description", "owner_user", "owner_contact", "due"]


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField()


def _may_comment(user, action: Action) -> None:
    services.may_work_on(user, action.improvement, action="Commenting on an action")


@writes_answer(ActionSerializer, ActionWriteSerializer)
class ActionViewSet(StepActionMixin, ServiceBackedViewSet):
    """Actions of improvement plans, for those taking part in the plan."""

    queryset = Action.objects.all()
    serializer_class = ActionSerializer
    write_serializer_class = ActionWriteSerializer
    filterset_fields = ["improvement", "done"]
    http_method_names = ["get", "post", "head", "options"]
    # ``done`` and ``comment`` are absent on purpose: customers taking part in the plan mark
    # their own actions done and comment (R14); the actions ask the service's rule
    # (``refuse_completing``, ``may_work_on``) of the action before reading the body.
    write_roles = {"create": (services.EDITORS, "Adding an improvement action")}
    step_object = "action"
    step_answer_class = ActionSerializer

    def get_queryset(self):
        return selectors.actions_for(self.request.user).prefetch_related("comments__author")

    def create_object(self, data):
        item = data.pop("improvement")
        return services.add_action(actor=self.request.user, improvement=item, **data)

    @extend_schema(request=NoteSerializer, responses=ActionSerializer)
    @action(detail=True, methods=["post"], serializer_class=NoteSerializer)
    def done(self, request, pk=None):
        return self.step(
            request, services.complete_action, NoteSerializer, refuse=services.refuse_completing
        )

    @extend_schema(request=CommentInputSerializer, responses=ActionSerializer)
    @action(detail=True, methods=["post"], serializer_class=CommentInputSerializer)
    def comment(self, request, pk=None):
        return self.step(
            request, services.comment_on_action, CommentInputSerializer, refuse=_may_comment
        )


__all__ = [
    "RESULT_FIELDS",
    "ROUTES",
    "health_data",
    "pack_data",
    "plain",
]

ROUTES = [
    ("improvements", ImprovementViewSet, "improvement"),
    ("improvement-actions", ActionViewSet, "improvementaction"),
    ("service-reviews", ServiceReviewViewSet, "servicereview"),
    ("relationship-health", HealthViewSet, "relationshiphealth"),
    ("review-packs", ReviewPackViewSet, "reviewpack"),
    ("improvement-dashboard", DashboardViewSet, "improvementdashboard"),
    ("parity", ParityViewSet, "parity"),
    ("retention", RetentionViewSet, "retention"),  # decision 0023
]
