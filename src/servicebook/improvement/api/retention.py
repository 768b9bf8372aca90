"""Retention of external business in the REST API (staff only; decision 0023)."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response

from servicebook.core.roles import is_provider_staff
from servicebook.improvement.retention import retention


class UpForRenewalSerializer(serializers.Serializer):
    customer = serializers.CharField()
    agreement = serializers.IntegerField()
    reference = serializers.CharField()
    ends = serializers.DateField()
    rating = serializers.CharField()
    at_risk = serializers.BooleanField()
    concerns = serializers.ListField(child=serializers.CharField())
    breaches = serializers.IntegerField()
    complaints = serializers.IntegerField()


@extend_schema_serializer(many=False)  # a list route answering one object
class RetentionSerializer(serializers.Serializer):
    """Renewal rate, churn, revenue kept and the customers up for renewal (external)."""

    since = serializers.DateField()
    today = serializers.DateField()
    came_up_for_renewal = serializers.IntegerField()
    renewed = serializers.IntegerField()
    renewal_rate_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    customers_at_start = serializers.IntegerField()
    customers_lost = serializers.ListField(child=serializers.CharField())
    churn_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    monthly_revenue_up = serializers.DictField(child=serializers.CharField())
    monthly_revenue_kept = serializers.DictField(child=serializers.CharField())
    revenue_kept_percent = serializers.DictField(child=serializers.CharField(allow_null=True))
    up_for_renewal = UpForRenewalSerializer(many=True)


def retention_data(today: dt.date | None = None) -> dict:
    data = retention(today=today)
    return {
        "since": data.since,
        "today": data.today,
        "came_up_for_renewal": data.came_up,
        "renewed": data.renewed,
        "renewal_rate_percent": data.renewal_rate,
        "customers_at_start": data.customers_at_start,
        "customers_lost": data.customers_lost,
        "churn_percent": data.churn_rate,
        "monthly_revenue_up": {k: str(v) for k, v in data.revenue_up.items()},
        "monthly_revenue_kept": {k: str(v) for k, v in data.revenue_kept.items()},
        "revenue_kept_percent": {
            k: None if v is None else str(v) for k, v in data.revenue_kept_percent.items()
        },
        "up_for_renewal": [
            {
                "customer": row.customer.name,
                "agreement": row.agreement.pk,
                "reference": row.agreement.reference,
                "ends": row.ends,
                "rating": row.rating,
                "at_risk": row.at_risk,
                "concerns": row.concerns,
                "breaches": row.breaches,
                "complaints": row.complaints,
            }
            for row in data.up_for_renewal
        ],
    }


class RetentionViewSet(viewsets.ViewSet):
    """Retention of external business (staff): ``?on=YYYY-MM-DD`` (default today)."""

    @extend_schema(
        responses=RetentionSerializer,
        parameters=[OpenApiParameter("on", str, description="The day to look from (ISO date).")],
    )
    def list(self, request):
        if not is_provider_staff(request.user):
            raise DRFPermissionDenied("Retention is the provider's own figures.")
        on = request.query_params.get("on")
        try:
            today = dt.date.fromisoformat(on) if on else None
        except ValueError:
            raise serializers.ValidationError({"on": "a date as YYYY-MM-DD"}) from None
        return Response(RetentionSerializer(retention_data(today)).data)
