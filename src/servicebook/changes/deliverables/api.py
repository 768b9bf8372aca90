"""Deliverables in the REST API: listed for whoever sees the agreement, recorded by the
provider, accepted or rejected by the customer's authorized person (decision 0023)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.changes.deliverables import services
from servicebook.changes.deliverables.models import Deliverable, DeliverableEvent
from servicebook.core.api import ScopedWriteSerializer, ServiceBackedViewSet


class DeliverableDecisionSerializer(serializers.ModelSerializer):
    """One acceptance or rejection: who, when, why."""

    verdict = serializers.CharField(source="action", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True, default=None)
    reason = serializers.CharField(source="note", read_only=True)
    decided_at = serializers.DateTimeField(source="at", read_only=True)

    class Meta:
        model = DeliverableEvent
        fields = ["verdict", "contact", "contact_name", "reason", "decided_at"]


class DeliverableSerializer(serializers.ModelSerializer):
    change_reference = serializers.CharField(
        source="change.reference", read_only=True, allow_null=True, default=None
    )
    accepted_by_name = serializers.CharField(
        source="accepted_by.name", read_only=True, allow_null=True, default=None
    )
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = Deliverable
        fields = [
            "id",
            "agreement",
            "change",
            "change_reference",
            "title",
            "description",
            "due_date",
            "status",
            "accepted_by",
            "accepted_by_name",
            "accepted_at",
            "decisions",
        ]

    @extend_schema_field(DeliverableDecisionSerializer(many=True))
    def get_decisions(self, obj) -> list[dict]:
        events = [e for e in obj.events.all() if e.is_decision]
        return DeliverableDecisionSerializer(events, many=True).data


class DeliverableWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Deliverable
        fields = ["agreement", "change", "title", "description", "due_date"]


class DecideSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DeliverableViewSet(ServiceBackedViewSet):
    """What an agreement (or a change to it) delivers, and the customer's acceptance."""

    write_roles = {"create": (services.DELIVERABLE_EDITORS, "Recording a deliverable")}
    queryset = Deliverable.objects.select_related("change", "accepted_by").prefetch_related(
        "events__contact"
    )
    serializer_class = DeliverableSerializer
    write_serializer_class = DeliverableWriteSerializer
    filterset_fields = ["agreement", "change", "status"]
    ordering_fields = ["due_date", "status", "id"]
    http_method_names = ["get", "post", "head", "options"]

    def create_object(self, data):
        return services.add_deliverable(actor=self.request.user, **data)

    @extend_schema(request=DecideSerializer, responses=DeliverableSerializer)
    @action(detail=True, methods=["post"], serializer_class=DecideSerializer)
    def decide(self, request, pk=None):
        """Accept (recorded with who and when) or reject with a reason (it stays open): the
        customer's authorized contact only."""
        deliverable = self.get_object()
        services.authorized_contact(request.user, deliverable)  # refused before the body is read
        serializer = DecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.decide_deliverable(
            actor=request.user, deliverable=deliverable, **serializer.validated_data
        )
        fresh = self.get_queryset().get(pk=deliverable.pk)
        return Response(DeliverableSerializer(fresh).data)


ROUTES = [("deliverables", DeliverableViewSet, "deliverable")]
