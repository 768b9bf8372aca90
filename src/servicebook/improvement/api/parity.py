"""The customer-service parity report (R21) in the API: provider staff only (it names
customers); service managers and the admin propose the improvements its flagged gaps call for."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response

from servicebook.core.roles import has_role, is_provider_staff
from servicebook.improvement import parity
from servicebook.improvement.api.reviews import _period, _require_staff, plain

PERIOD = OpenApiParameter("period", str, description="YYYY-MM (default: the reports' period)")


def _rows():
    return serializers.ListField(child=serializers.DictField())


@extend_schema_serializer(many=False)  # a list route answering one object
class ParitySerializer(serializers.Serializer):
    """The parity report (what ``parity.report_data`` answers; for the schema)."""

    period = serializers.CharField()
    tolerance_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    kinds = serializers.DictField()
    gaps = _rows()
    flagged = serializers.ListField(child=serializers.CharField())
    customers = _rows()


class ProposedSerializer(serializers.Serializer):
    created = _rows()
    count = serializers.IntegerField()


class ParityViewSet(viewsets.ViewSet):
    """Customer-service parity between internal and external customers (R21):
    ``GET ?period=YYYY-MM``; ``POST propose/?period=YYYY-MM`` raises one draft improvement item
    per flagged gap (idempotent)."""

    @extend_schema(parameters=[PERIOD], responses=ParitySerializer)
    def list(self, request):
        _require_staff(request)
        report = parity.parity_report(_period(request))
        return Response(plain(parity.report_data(report)))

    @extend_schema(parameters=[PERIOD], request=None, responses=ProposedSerializer)
    @action(detail=False, methods=["post"])
    def propose(self, request):
        user = request.user
        if not (is_provider_staff(user) and has_role(user, *parity.EDITORS)):
            raise DRFPermissionDenied("Proposing improvements needs a service manager.")
        created = parity.propose_parity_improvements(actor=user, period=_period(request))
        rows = [{"id": i.pk, "title": i.title, "driver": i.driver} for i in created]
        return Response({"created": rows, "count": len(rows)})
