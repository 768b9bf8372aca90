"""REST API of the improvement register, relationship health, review packs and the dashboard.

What a customer user receives of an improvement follows its policy (R14): the detail of the plan
when it takes part in it, else the expected results and progress only. Cost goes to those who
may see cost, profitability and internal notes to provider staff only (R7).
"""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response

from servicebook.catalog.models import Service
from servicebook.core.api import ScopedWriteSerializer, ServiceBackedViewSet
from servicebook.core.audience import ShownActorField, ShownNoteField
from servicebook.core.models import User
from servicebook.core.periods import is_period
from servicebook.core.roles import is_provider_staff
from servicebook.core.schema import OmittableFieldsMixin, writes_answer
from servicebook.improvement import selectors, services
from servicebook.improvement.models import (
    DRIVER_LABELS,
    Action,
    Improvement,
    ImprovementEvent,
    ServiceReview,
)
from servicebook.parties.models import Contact, Customer, Objective
from servicebook.policy import POLICIES
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


def plain(value):
    """Decimals as strings (money and percentages are exact, never floats), recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


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
class ImprovementViewSet(ServiceBackedViewSet):
    """The continual improvement register (R14). Workflow: draft → proposed → approved → in
    progress → done → verified | dropped. Customer users see the items that concern them: the
    detail when they take part in the plan, else the expected results and progress only."""

    queryset = Improvement.objects.all()
    serializer_class = ImprovementSerializer
    write_serializer_class = ImprovementWriteSerializer
    filterset_fields = ["status", "driver", "source", "customer"]
    search_fields = ["title"]
    ordering_fields = ["created_at", "expected_by", "status"]
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

    def _respond(self, item):
        item = self.get_queryset().get(pk=item.pk)
        return Response(ImprovementSerializer(item, context=self.get_serializer_context()).data)

    def _step(self, request, service, serializer_class=NoteSerializer, *, first=None):
        item = self.get_object()
        if first is not None:
            first(request.user, item)  # who may, asked of the item before the body is read
        serializer = serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        service(actor=request.user, improvement=item, **serializer.validated_data)
        return self._respond(item)

    @extend_schema(request=NoteSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"])
    def propose(self, request, pk=None):
        """draft → proposed (driver and expected result stated)."""
        return self._step(request, services.propose)

    @extend_schema(request=ApproveSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=ApproveSerializer)
    def approve(self, request, pk=None):
        """A customer taking part approves the plan (staff: for a named contact, or alone when
        no customer takes part)."""
        return self._step(
            request, services.approve_plan, ApproveSerializer, first=services.refuse_approval
        )

    @extend_schema(request=NoteSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._step(request, services.start)

    @extend_schema(request=NoteSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """in progress → done (every action done)."""
        return self._step(request, services.complete)

    @extend_schema(request=VerifySerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=VerifySerializer)
    def verify(self, request, pk=None):
        """done → verified, with the measured result compared with the expectation."""
        return self._step(request, services.verify, VerifySerializer)

    @extend_schema(request=DropSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=DropSerializer)
    def drop(self, request, pk=None):
        return self._step(request, services.drop, DropSerializer)

    @extend_schema(request=ParticipantSerializer, responses=ImprovementSerializer)
    @action(detail=True, methods=["post"], serializer_class=ParticipantSerializer)
    def participants(self, request, pk=None):
        """Add a member (internal) or invite an external customer in difficulty (R14)."""
        item = self.get_object()
        serializer = ParticipantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = serializer.validated_data["contact"]
        services.add_participant(
            actor=request.user,
            improvement=item,
            contact=contact,
            note=serializer.validated_data["note"],
        )
        return self._respond(item)

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


@writes_answer(ActionSerializer, ActionWriteSerializer)
class ActionViewSet(ServiceBackedViewSet):
    """Actions of improvement plans, for those taking part in the plan (R14)."""

    queryset = Action.objects.all()
    serializer_class = ActionSerializer
    write_serializer_class = ActionWriteSerializer
    filterset_fields = ["improvement", "done"]
    http_method_names = ["get", "post", "head", "options"]
    # ``done`` and ``comment`` are absent on purpose: customers taking part in the plan mark
    # their own actions done and comment (R14); the actions ask the service's rule
    # (``refuse_completing``, ``may_work_on``) of the action before reading the body.
    write_roles = {"create": (services.EDITORS, "Adding an improvement action")}

    def get_queryset(self):
        return selectors.actions_for(self.request.user).prefetch_related("comments__author")

    def create_object(self, data):
        item = data.pop("improvement")
        return services.add_action(actor=self.request.user, improvement=item, **data)

    def _respond(self, obj):
        return Response(ActionSerializer(self.get_queryset().get(pk=obj.pk)).data)

    @extend_schema(request=NoteSerializer, responses=ActionSerializer)
    @action(detail=True, methods=["post"], serializer_class=NoteSerializer)
    def done(self, request, pk=None):
        obj = self.get_object()
        services.refuse_completing(request.user, obj)  # before the body is read
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.complete_action(actor=request.user, action=obj, **serializer.validated_data)
        return self._respond(obj)

    @extend_schema(request=CommentInputSerializer, responses=ActionSerializer)
    @action(detail=True, methods=["post"], serializer_class=CommentInputSerializer)
    def comment(self, request, pk=None):
        obj = self.get_object()
        services.may_work_on(request.user, obj.improvement, action="Commenting on an action")
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.comment_on_action(actor=request.user, action=obj, **serializer.validated_data)
        return self._respond(obj)


# --- health, review packs, dashboard -------------------------------------------------------------


def _require_staff(request) -> None:
    if not is_provider_staff(request.user):
        raise DRFPermissionDenied("Relationship health is the provider's own assessment.")


def _period(request, default=None) -> str:
    period = request.query_params.get("period") or default or selectors.default_period()
    if not is_period(period):
        raise serializers.ValidationError({"period": "use YYYY-MM"})
    return period


def health_data(h: selectors.Health) -> dict:
    return {
        "id": h.customer.pk,
        "customer": h.customer.name,
        "code": h.customer.code,
        "kind": h.customer.kind,
        "period": h.period,
        "rating": h.rating,
        "score": h.score,
        "concerns": h.concerns,
        "in_difficulty": h.customer.in_difficulty,
        "difficulty_reason": h.customer.difficulty_reason,
        "satisfaction": [{"period": p, "average": v} for p, v in h.satisfaction],
        "satisfaction_trend": h.satisfaction_trend,
        "attainment_percent": h.attainment_percent,
        "targets_measured": h.targets_measured,
        "open_breaches": h.open_breaches,
        "overdue_invoices": h.overdue_invoices,
        "overdue_amount": h.overdue_amount,
        "over_funding_by": h.over_funding_by,
        "consumption_at_cost": h.consumption,
        "consumption_basis": h.consumption_basis,
        "currency": h.currency,
        "open_complaints": h.open_complaints,
        "open_improvements": h.open_improvements,
        "difficulty_history": [
            {
                "at": e.at,
                "actor": e.actor.username if e.actor else None,
                "to_state": e.to_state,
                "note": e.note,
            }
            for e in h.difficulty_history
        ],
    }


def _decimal(**kwargs):
    """An exact amount or percentage, as a string (``plain``), or null where not known."""
    return serializers.CharField(allow_null=True, **kwargs)


def _rows(**kwargs):
    return serializers.ListField(child=serializers.DictField(), **kwargs)


class HealthSerializer(serializers.Serializer):
    """A customer's relationship health (what ``health_data`` answers; for the schema)."""

    id = serializers.IntegerField()
    customer = serializers.CharField()
    code = serializers.CharField()
    kind = serializers.CharField()
    period = serializers.CharField()
    rating = serializers.CharField()
    score = serializers.IntegerField()
    concerns = serializers.ListField(child=serializers.CharField())
    in_difficulty = serializers.BooleanField()
    difficulty_reason = serializers.CharField(allow_blank=True)
    satisfaction = _rows()
    satisfaction_trend = _decimal()
    attainment_percent = _decimal()
    targets_measured = serializers.IntegerField(allow_null=True)
    open_breaches = serializers.IntegerField(allow_null=True)
    overdue_invoices = serializers.IntegerField(allow_null=True)
    overdue_amount = _decimal()
    over_funding_by = _decimal()
    consumption_at_cost = _decimal()
    consumption_basis = serializers.CharField(allow_blank=True)
    currency = serializers.CharField(allow_null=True)
    open_complaints = serializers.IntegerField(allow_null=True)
    open_improvements = serializers.IntegerField(allow_null=True)
    difficulty_history = _rows()


@extend_schema_serializer(many=False)  # a list route answering one object
class HealthPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    results = HealthSerializer(many=True)


class HealthViewSet(viewsets.ViewSet):
    """Relationship health per customer (R14, R15), provider staff only. ``?period=YYYY-MM``
    (the last month of the window), ``?kind=internal|external``."""

    lookup_value_regex = r"[0-9]+"  # a customer id: any other key is not found (404)

    @extend_schema(responses=HealthPageSerializer)
    def list(self, request):
        _require_staff(request)
        kind = request.query_params.get("kind") or None
        period = _period(request, selectors.current_period())
        rows = selectors.health_for(request.user, period=period, kind=kind)
        results = [health_data(h) for h in rows]
        return Response(plain({"count": len(rows), "next": None, "results": results}))

    @extend_schema(responses=HealthSerializer)
    def retrieve(self, request, pk=None):
        _require_staff(request)
        customers = Customer.objects.visible_to(request.user).filter(pk=pk)
        if not customers.exists():
            raise Http404
        period = _period(request, selectors.current_period())
        (health,) = selectors.health_of(customers, period=period)
        return Response(plain(health_data(health)))


def _money_rows(pack) -> dict:
    charges = pack["charges"]
    if pack["policy"].discloses_cost:
        return {
            "basis": pack["policy"].charge_basis,
            "consumption_at_cost": charges["consumption"].as_dict(),
            "statements": [
                {
                    "number": s.number,
                    "currency": s.currency,
                    "total_cost": s.total_cost,
                    "total_charge": s.total_charge,
                    "recovered": s.recovered,
                    "budget": s.budget,
                }
                for s in charges["statements"]
            ],
        }
    return {
        "basis": pack["policy"].charge_basis,
        "invoices": [
            {
                "number": i.number,
                "currency": i.currency,
                "gross": i.gross,
                "credits": i.credits,
                "total": i.total,
                "cash_amount": i.cash_amount,
                "in_kind_amount": i.in_kind_amount,
                "status": i.status,
                "due_date": i.due_date,
            }
            for i in charges["invoices"]
        ],
    }


def pack_data(pack: dict, user) -> dict:
    customer = pack["customer"]
    seen = selectors.viewer(user)
    return {
        "id": customer.pk,
        "customer": customer.name,
        "period": pack["period"],
        "agreement_kind": pack["policy"].agreement_kind,
        "service_levels": [
            {
                "agreement": a.agreement.reference,
                "target": str(a.target),
                "measured_percent": a.measured_percent,
                "target_percent": a.target_percent,
                "met": a.met,
            }
            for a in pack["attainments"]
        ],
        "targets_met": pack["targets_met"],
        "targets_measured": pack["targets_measured"],
        "service_credits": [
            {"target": str(c.target), "amount": c.amount, "currency": c.currency}
            for c in pack["credits"]
        ],
        "charges": _money_rows(pack),
        "satisfaction": [{"period": p, "average": v} for p, v in pack["satisfaction"]],
        "complaints": [
            {"service": f.service.name, "comment": f.comment, "resolved": bool(f.resolved_at)}
            for f in pack["complaints"]
        ],
        "improvements": [
            {
                "id": i.pk,
                "title": i.title,
                "status": i.status,
                "expected_measure": i.expected_measure,
                "expected_value": i.expected_value,
                "expected_by": i.expected_by,
                "measured_value": i.measured_value,
                "result_met": i.result_met,
                "progress": selectors.progress(i),
                **({"driver": i.driver} if seen.staff or seen.level(i) == selectors.DETAIL else {}),
            }
            for i in pack["improvements"]
        ],
    }


class PackRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.CharField()
    period = serializers.CharField()


@extend_schema_serializer(many=False)  # a list route answering one object
class PackPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    results = PackRowSerializer(many=True)


class PackSerializer(PackRowSerializer):
    """A customer's service review pack (what ``pack_data`` answers; for the schema)."""

    agreement_kind = serializers.CharField()
    service_levels = _rows()
    targets_met = serializers.IntegerField(allow_null=True)
    targets_measured = serializers.IntegerField(allow_null=True)
    service_credits = _rows()
    charges = serializers.DictField()
    satisfaction = _rows()
    complaints = _rows()
    improvements = _rows()


class ReviewPackViewSet(viewsets.ViewSet):
    """The service review pack of a customer for ``?period=YYYY-MM`` (``/pdf/`` for the PDF).
    Internal packs show cost, external packs price only (R7). Customer users get their own."""

    lookup_value_regex = r"[0-9]+"  # a customer id: any other key is not found (404)

    def _customer(self, request, pk):
        customer = Customer.objects.visible_to(request.user).filter(pk=pk).first()
        if customer is None:
            raise Http404
        return customer

    @extend_schema(responses=PackPageSerializer)
    def list(self, request):
        customers = Customer.objects.visible_to(request.user).filter(
            status__in=["active", "suspended"]
        )
        period = _period(request)
        rows = [{"id": c.pk, "customer": c.name, "period": period} for c in customers]
        return Response({"count": len(rows), "next": None, "results": rows})

    @extend_schema(responses=PackSerializer)
    def retrieve(self, request, pk=None):
        customer = self._customer(request, pk)
        pack = selectors.review_pack(customer, _period(request))
        return Response(plain(pack_data(pack, request.user)))

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        from servicebook.improvement.export import pack_pdf

        customer = self._customer(request, pk)
        period = _period(request)
        response = HttpResponse(
            pack_pdf(selectors.review_pack(customer, period), user=request.user),
            content_type="application/pdf",
        )
        name = f"review-{customer.code}-{period}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@extend_schema_serializer(many=False)  # a list route answering one object
class DashboardSerializer(serializers.Serializer):
    """The provider dashboard (what ``DashboardViewSet.list`` answers; for the schema)."""

    period = serializers.CharField()
    kind = serializers.CharField(allow_blank=True, allow_null=True)
    services_by_attainment = _rows()
    customers_by_health = _rows()
    revenue_against_capacity = serializers.DictField()
    improvements_by_status = serializers.DictField(child=serializers.IntegerField())
    improvements_by_driver = serializers.DictField(child=serializers.IntegerField())


class DashboardViewSet(viewsets.ViewSet):
    """The provider dashboard (staff): ``?period=YYYY-MM&kind=internal|external``."""

    @extend_schema(responses=DashboardSerializer)
    def list(self, request):
        _require_staff(request)
        kind = request.query_params.get("kind") or None
        if kind and kind not in POLICIES:
            raise serializers.ValidationError({"kind": f"one of {', '.join(POLICIES)}"})
        data = selectors.dashboard(period=_period(request), kind=kind)
        return Response(
            plain(
                {
                    "period": data["period"],
                    "kind": data["kind"],
                    "services_by_attainment": data["services"],
                    "customers_by_health": [
                        {"customer": h.customer.name, "rating": h.rating, "score": h.score}
                        for h in data["health"]
                    ],
                    "revenue_against_capacity": data["capacity"],
                    "improvements_by_status": {s[0]: s[2] for s in data["statuses"]},
                    "improvements_by_driver": {d[0]: d[2] for d in data["drivers"]},
                }
            )
        )


class ServiceReviewSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = ServiceReview
        fields = ["id", "customer", "customer_name", "period", "status", "meeting_on", "minutes"]


class ServiceReviewWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = ServiceReview
        fields = ["customer", "period", "meeting_on"]
        validators = []


class HeldSerializer(serializers.Serializer):
    meeting_on = serializers.DateField()
    minutes = serializers.CharField()


@writes_answer(ServiceReviewSerializer, ServiceReviewWriteSerializer)
class ServiceReviewViewSet(ServiceBackedViewSet):
    """Service review meetings: prepared (the pack), then held with minutes."""

    queryset = ServiceReview.objects.select_related("customer")
    serializer_class = ServiceReviewSerializer
    write_serializer_class = ServiceReviewWriteSerializer
    filterset_fields = ["customer", "period", "status"]
    http_method_names = ["get", "post", "head", "options"]
    write_roles = {
        "create": (services.EDITORS, "Preparing a service review"),
        "held": (services.EDITORS, "Recording a service review"),
    }

    def create_object(self, data):
        return services.prepare_review(actor=self.request.user, **data)

    @extend_schema(request=HeldSerializer, responses=ServiceReviewSerializer)
    @action(detail=True, methods=["post"], serializer_class=HeldSerializer)
    def held(self, request, pk=None):
        review = self.get_object()
        serializer = HeldSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.record_review_held(
            actor=request.user, review=review, **serializer.validated_data
        )
        return Response(ServiceReviewSerializer(review).data)


ROUTES = [
    ("improvements", ImprovementViewSet, "improvement"),
    ("improvement-actions", ActionViewSet, "improvementaction"),
    ("service-reviews", ServiceReviewViewSet, "servicereview"),
    ("relationship-health", HealthViewSet, "relationshiphealth"),
    ("review-packs", ReviewPackViewSet, "reviewpack"),
    ("improvement-dashboard", DashboardViewSet, "improvementdashboard"),
]
