"""Deliverables in the REST API: listed for whoever sees the agreement, recorded by the
provider, accepted or rejected by the customer's authorized person (decision 0023)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.changes.deliverables import services
from servicebook.changes.deliverables.models import Deliverable, DeliverableDecision
from servicebook.core.api import ScopedWriteSerializer, ServiceBackedViewSet


class DeliverableDecisionSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = DeliverableDecision
        fields = ["verdict", "contact", "contact_name", "reason", "decided_at"]


class DeliverableSerializer(serializers.ModelSerializer):
    change_reference = serializers.CharField(
        source="change.reference", read_only=True, allow_null=True, default=None
    )
    accepted_by_name = serializers.CharField(
        source="accepted_by.name", read_only=True, allow_null=True, default=None
    )
    decisions = DeliverableDecisionSerializer(many=True, read_only=True)

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


class DeliverableWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Deliverable
        fields = ["agreement", "change", "title", "description", "due_date"]


class DecideSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=DeliverableDecision.Verdict.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DeliverableViewSet(ServiceBackedViewSet):
    """What an agreement (or a change to it) delivers, and the customer's acceptance."""

    write_roles = {"create": (services.DELIVERABLE_EDITORS, "Recording a deliverable")}
    queryset = Deliverable.objects.select_related("change", "accepted_by").prefetch_related(
        "decisions__contact"
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
