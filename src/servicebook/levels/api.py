"""REST API of service levels: tickets (and batch import), clocks, outages, attainment,
breaches and credits. Customer users read their own agreements' rows only; writes go through
the services and need a provider role."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.agreements.models import Agreement
from servicebook.core.api import (
    PermissionFirstMixin,
    ScopedWriteSerializer,
    ServiceBackedViewSet,
)
from servicebook.improvement.models import Improvement, ImprovementSource
from servicebook.levels import services
from servicebook.levels.filters import TICKET_ORDERING, TicketFilter
from servicebook.levels.models import Attainment, Credit, Outage, Ticket, TicketStateChange
from servicebook.levels.selectors import ticket_clock
from servicebook.levels.selfservice.api import ROUTES as PORTAL_ROUTES
from servicebook.policy import BreachConsequence


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only rows scoped by ``visible_to``: another customer's row is a 404."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


# --- tickets ---------------------------------------------------------------------------------


class TicketStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketStateChange
        fields = ["sequence", "at", "state"]


class TicketSerializer(serializers.ModelSerializer):
    agreement_reference = serializers.CharField(source="agreement.reference", read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "agreement",
            "agreement_reference",
            "source",
            "number",
            "kind",
            "short_description",
            "state",
            "active",
            "impact",
            "urgency",
            "priority",
            "source_priority",
            "category",
            "assignment_group",
            "contact_type",
            "opened_at",
            "resolved_at",
            "closed_at",
            "reassignment_count",
            "reopen_count",
            "source_made_sla",
        ]


class TicketDetailSerializer(TicketSerializer):
    history = TicketStateSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "history"]


class TicketImportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=services.FORMATS)
    agreement = serializers.CharField(required=False, allow_blank=True, default="")
    source = serializers.CharField(required=False, allow_blank=True, default="")
    time_zone = serializers.CharField(required=False, default="UTC")
    rows = serializers.ListField(
        child=serializers.DictField(), allow_empty=False, max_length=services.MAX_API_ROWS
    )


class TicketRejectSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reason = serializers.CharField()


class TicketImportResultSerializer(serializers.Serializer):
    """What ``POST /api/tickets/import/`` answers: the import's counts and its rejected rows."""

    rows_read = serializers.IntegerField()
    rows_accepted = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    tickets_created = serializers.IntegerField()
    tickets_updated = serializers.IntegerField()
    tickets_unchanged = serializers.IntegerField()
    agreements = serializers.ListField(child=serializers.CharField())
    rejects = TicketRejectSerializer(many=True)


class ClockSerializer(serializers.Serializer):
    metric = serializers.CharField()
    target = serializers.CharField()
    target_id = serializers.IntegerField()
    threshold_seconds = serializers.IntegerField()
    calendar = serializers.CharField()
    elapsed_seconds = serializers.IntegerField()
    paused_seconds = serializers.IntegerField()
    deadline = serializers.DateTimeField()
    done = serializers.BooleanField()
    breached = serializers.BooleanField()
    period = serializers.CharField()


class SegmentSerializer(serializers.Serializer):
    state = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    wall_seconds = serializers.IntegerField()
    business_seconds = serializers.IntegerField(allow_null=True)
    paused = serializers.BooleanField()


class TicketClockSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    source_made_sla = serializers.BooleanField(allow_null=True)
    clocks = ClockSerializer(many=True)
    segments = SegmentSerializer(many=True)


def _cell(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class TicketViewSet(PermissionFirstMixin, ScopedReadOnlyViewSet):
    """Tickets measured against their agreement's targets; ``import`` takes a batch."""

    #: checked before the body is read: a customer user gets 403 whatever it sends
    write_roles = {"batch_import": (services.LEVEL_EDITORS, "Importing tickets")}

    queryset = Ticket.objects.select_related("agreement")
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    search_fields = ["number", "short_description", "category", "assignment_group"]
    ordering_fields = TICKET_ORDERING

    def get_serializer_class(self):
        if self.action == "retrieve":
            return TicketDetailSerializer
        return super().get_serializer_class()

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("history")
        return queryset

    @extend_schema(request=TicketImportSerializer, responses=TicketImportResultSerializer)
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def batch_import(self, request):
        """Import a batch of tickets (generic CSV fields or ServiceNow event-log rows as JSON).

        Idempotent by (source, number); answers with the import summary and the rejected rows
        with their reason. Provider service managers and admins only.
        """
        serializer = TicketImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rows = [{str(k): _cell(v) for k, v in row.items()} for row in data["rows"]]
        columns = sorted({key for row in rows for key in row})
        result = services.import_tickets(
            actor=request.user,
            rows=rows,
            fmt=data["format"],
            columns=columns,
            agreement=data["agreement"] or None,
            source=data["source"] or None,
            time_zone=data["time_zone"],
            filename="api",
        )
        body = {
            **result.summary(),
            "rejects": [{"row": n, "reason": reason} for n, _, reason in result.rejects],
        }
        return Response(body, status=status.HTTP_200_OK)

    @extend_schema(responses=TicketClockSerializer)
    @action(detail=True, methods=["get"])
    def clock(self, request, pk=None):
        """The ticket's clocks: business time elapsed and paused, deadline, breached, timeline."""
        ticket = self.get_object()
        return Response(TicketClockSerializer(ticket_clock(ticket)).data)


# --- outages ---------------------------------------------------------------------------------


class OutageSerializer(serializers.ModelSerializer):
    service_name = serializers.CharField(source="service.name", read_only=True)
    #: an outage of a whole service belongs to no agreement
    agreement_reference = serializers.CharField(
        source="agreement.reference", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Outage
        fields = [
            "id",
            "reference",
            "service",
            "service_name",
            "agreement",
            "agreement_reference",
            "start",
            "end",
            "planned",
            "description",
        ]


class OutageWriteSerializer(ScopedWriteSerializer):
    reference = serializers.CharField(required=False, allow_blank=True, default="")

    class Meta:
        model = Outage
        fields = ["reference", "service", "agreement", "start", "end", "planned", "description"]
        validators = []


class OutageEndSerializer(serializers.Serializer):
    end = serializers.DateTimeField()


class OutageViewSet(ServiceBackedViewSet):
    """Outages and planned maintenance of services (availability targets measure them)."""

    write_roles = {
        "create": (services.LEVEL_EDITORS, "Recording an outage"),
        "end": (services.LEVEL_EDITORS, "Ending an outage"),
    }

    queryset = Outage.objects.select_related("service", "agreement")
    serializer_class = OutageSerializer
    write_serializer_class = OutageWriteSerializer
    filterset_fields = ["service", "agreement", "planned"]
    ordering_fields = ["start"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.record_outage(actor=self.request.user, **data)

    @extend_schema(request=OutageEndSerializer, responses=OutageSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End an ongoing outage."""
        outage = self.get_object()
        serializer = OutageEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outage = services.end_outage(actor=request.user, outage=outage, **serializer.validated_data)
        return Response(OutageSerializer(outage, context={"request": request}).data)


# --- attainment, breaches, credits ---------------------------------------------------------------


class AttainmentSerializer(serializers.ModelSerializer):
    agreement_reference = serializers.CharField(source="agreement.reference", read_only=True)
    target_description = serializers.CharField(source="target.__str__", read_only=True)
    #: availability targets have no priority
    priority = serializers.IntegerField(source="target.priority", read_only=True, allow_null=True)

    class Meta:
        model = Attainment
        fields = [
            "id",
            "agreement",
            "agreement_reference",
            "target",
            "target_description",
            "metric",
            "priority",
            "period",
            "measured_percent",
            "target_percent",
            "met",
            "tickets_total",
            "tickets_breached",
            "tickets_pending",
            "agreed_seconds",
            "down_seconds",
            "computed_at",
        ]


class BreachingTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True, help_text="Empty if the ticket is gone.")


class BreachingTicketsMixin(serializers.Serializer):
    breaching_tickets = serializers.SerializerMethodField()

    @extend_schema_field(BreachingTicketSerializer(many=True))
    def get_breaching_tickets(self, obj) -> list[dict]:
        ids = obj.breaching_tickets or []
        numbers = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "number"))
        return [{"id": pk, "number": numbers.get(pk)} for pk in ids]


class AttainmentDetailSerializer(BreachingTicketsMixin, AttainmentSerializer):
    class Meta(AttainmentSerializer.Meta):
        fields = [*AttainmentSerializer.Meta.fields, "breaching_tickets"]


@extend_schema_serializer(component_name="ServiceLevelBreach")  # parties has a "Breach" too
class BreachSerializer(BreachingTicketsMixin, AttainmentSerializer):
    consequence = serializers.SerializerMethodField()

    class Meta(AttainmentSerializer.Meta):
        fields = [*AttainmentSerializer.Meta.fields, "breaching_tickets", "consequence"]

    def get_consequence(self, obj) -> dict | None:
        """The credit (contracts) or the improvement item (internal agreements) it produced."""
        kind = obj.agreement.policy.breach_consequence
        if kind is BreachConsequence.SERVICE_CREDIT:
            credit = Credit.objects.filter(target=obj.target_id, period=obj.period).first()
            if credit is None:
                return {"kind": kind, "credit": None}
            return {"kind": kind, "credit": CreditSerializer(credit).data}
        item = Improvement.objects.filter(
            source=ImprovementSource.SERVICE_LEVEL_BREACH, target=obj.target_id, period=obj.period
        ).first()
        return {
            "kind": kind,
            "improvement": None
            if item is None
            else {"id": item.pk, "title": item.title, "status": item.status},
        }


class RecomputeSerializer(serializers.Serializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all())


class RecomputeResultSerializer(serializers.Serializer):
    """What ``POST /api/attainment/recompute/`` answers."""

    agreement = serializers.CharField(help_text="The agreement's reference.")
    rows = serializers.IntegerField(help_text="Attainment rows computed.")
    breaches = serializers.IntegerField(help_text="Of them, targets missed.")


class AttainmentViewSet(PermissionFirstMixin, ScopedReadOnlyViewSet):
    """Attainment per agreement, target and month, as the last recomputation stored it (a
    recomputation job follows every change of its inputs; reads never write)."""

    write_roles = {"recompute": (services.RECOMPUTERS, "Recomputing service levels")}

    queryset = Attainment.objects.select_related("agreement", "target")
    serializer_class = AttainmentSerializer
    filterset_fields = ["agreement", "target", "period", "metric", "met"]
    ordering_fields = ["period", "metric"]

    def get_serializer_class(self):
        return AttainmentDetailSerializer if self.action == "retrieve" else AttainmentSerializer

    @extend_schema(request=RecomputeSerializer, responses=RecomputeResultSerializer)
    @action(detail=False, methods=["post"])
    def recompute(self, request):
        """Recompute an agreement's attainment from its stored history now."""
        serializer = RecomputeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agreement = get_object_or_404(
            Agreement.objects.visible_to(request.user),
            pk=serializer.validated_data["agreement"].pk,
        )
        rows = services.recompute_attainment(
            actor=request.user, agreement=agreement, reason="recomputed through the API"
        )
        return Response(
            {
                "agreement": agreement.reference,
                "rows": len(rows),
                "breaches": sum(1 for row in rows if row.met is False),
            }
        )


class BreachViewSet(ScopedReadOnlyViewSet):
    """Missed targets per month, the breaching tickets and what the breach produced."""

    queryset = Attainment.objects.filter(met=False).select_related("agreement__customer", "target")
    serializer_class = BreachSerializer
    filterset_fields = ["agreement", "target", "period", "metric"]
    ordering_fields = ["period"]


class CreditSerializer(serializers.ModelSerializer):
    target_description = serializers.CharField(source="target.__str__", read_only=True)

    class Meta:
        model = Credit
        fields = [
            "id",
            "agreement",
            "target",
            "target_description",
            "period",
            "attainment_percent",
            "credit_percent",
            "amount",
            "currency",
            "capped",
            "status",
            "applied_reference",
        ]


class CreditViewSet(ScopedReadOnlyViewSet):
    """Service credits earned by contracts' customers (pending until an invoice carries them)."""

    queryset = Credit.objects.select_related("target")
    serializer_class = CreditSerializer
    filterset_fields = ["agreement", "period", "status"]
    ordering_fields = ["period"]


ROUTES = [
    ("tickets", TicketViewSet, "ticket"),
    ("outages", OutageViewSet, "outage"),
    ("attainment", AttainmentViewSet, "attainment"),
    ("breaches", BreachViewSet, "breach"),
    ("credits", CreditViewSet, "credit"),
    *PORTAL_ROUTES,  # customer self-service (issue 15)
]
