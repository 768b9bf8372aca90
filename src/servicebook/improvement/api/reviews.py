"""Relationship health, service review packs, the provider dashboard and service reviews."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from servicebook.core.api import ScopedWriteSerializer, ServiceBackedViewSet, StepActionMixin
from servicebook.core.periods import is_period
from servicebook.core.roles import is_provider_staff
from servicebook.core.schema import writes_answer
from servicebook.improvement import ranking, selectors, services
from servicebook.improvement.models import ServiceReview
from servicebook.parties.models import Customer
from servicebook.policy import POLICIES


def plain(value):
    """Decimals as strings (money and percentages are exact, never floats), recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


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
    previous = serializers.CharField(allow_null=True)
    results = HealthSerializer(many=True)


class HealthViewSet(viewsets.ViewSet):
    """Relationship health per customer (R14, R15), provider staff only. ``?period=YYYY-MM``
    (the last month of the window), ``?kind=internal|external``."""

    lookup_value_regex = r"[0-9]+"  # a customer id: any other key is not found (404)

    @extend_schema(responses=HealthPageSerializer)
    def list(self, request):
        """Worst first, 50 a page (``?page=N``): read from the period's kept ranking when it is
        current (``improvement.ranking``), ranked live otherwise; only the page's customers are
        answered in full."""
        _require_staff(request)
        kind = request.query_params.get("kind") or None
        period = _period(request, selectors.current_period())
        customers = Customer.objects.visible_to(request.user)
        if kind in POLICIES:
            customers = customers.filter(kind=kind)
        paginator = PageNumberPagination()
        rows = paginator.paginate_queryset(ranking.Ranked(customers, period), request, view=self)
        selectors.add_difficulty_history(rows)
        return paginator.get_paginated_response(plain([health_data(h) for h in rows]))

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
        "outcomes": [
            {
                "outcome": o["outcome"].description,
                "measures": [
                    {
                        "indicator": v.measure.indicator,
                        "unit": v.measure.unit,
                        "target": v.measure.target,
                        "direction": v.measure.direction,
                        "readings": [
                            {"period": r.period, "value": r.value, "on_target": r.on_target}
                            for r in v.readings
                        ],
                    }
                    for v in o["measures"]
                ],
            }
            for o in pack["outcomes"]
        ],
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
    previous = serializers.CharField(allow_null=True)
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
    outcomes = _rows()
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
        """The customers whose pack may be read, 50 a page (``?page=N``), by name."""
        customers = (
            Customer.objects.visible_to(request.user)
            .served()
            .order_by("name", "pk")
            .values_list("pk", "name")
        )
        period = _period(request)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(customers, request, view=self)
        rows = [{"id": pk, "customer": name, "period": period} for pk, name in page]
        return paginator.get_paginated_response(rows)

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
    customers_by_health = _rows(
        help_text="the worst customers by relationship health (at most ten); "
        "/api/relationship-health/ pages through all"
    )
    health_ratings = serializers.DictField(
        child=serializers.IntegerField(), help_text="customers per rating: at_risk, watch, good"
    )
    health_ranked_at = serializers.DateTimeField(
        allow_null=True,
        help_text="when the kept ranking the health figures come from was made; null when "
        "they were ranked live for this answer",
    )
    revenue_against_capacity = serializers.DictField(
        allow_null=True,
        help_text="R8 totals: external revenue against capacity spend (the finance reports "
        "list it per customer); null for internal customers only",
    )
    improvements_by_status = serializers.DictField(child=serializers.IntegerField())
    improvements_by_driver = serializers.DictField(child=serializers.IntegerField())
    parity_gaps = _rows()


class DashboardViewSet(viewsets.ViewSet):
    """The provider dashboard (staff): ``?period=YYYY-MM&kind=internal|external``."""

    @extend_schema(responses=DashboardSerializer)
    def list(self, request):
        _require_staff(request)
        kind = request.query_params.get("kind") or None
        if kind and kind not in POLICIES:
            raise serializers.ValidationError({"kind": f"one of {', '.join(POLICIES)}"})
        period = _period(request)
        data = selectors.dashboard(period=period, kind=kind)
        from servicebook.improvement import parity

        gaps = parity.report_data(parity.parity_report(period))["gaps"]
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
                    "health_ratings": {
                        rating: data["ratings"][rating] for rating in selectors.RATING_ORDER
                    },
                    "health_ranked_at": data["ranked"].kept and data["ranked"].kept.ranked_at,
                    "revenue_against_capacity": data["capacity"],
                    "improvements_by_status": {s[0]: s[2] for s in data["statuses"]},
                    "improvements_by_driver": {d[0]: d[2] for d in data["drivers"]},
                    "parity_gaps": [gap for gap in gaps if gap["flagged"]],
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
class ServiceReviewViewSet(StepActionMixin, ServiceBackedViewSet):
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
    step_object = "review"
    step_answer_class = ServiceReviewSerializer

    def create_object(self, data):
        return services.prepare_review(actor=self.request.user, **data)

    @extend_schema(request=HeldSerializer, responses=ServiceReviewSerializer)
    @action(detail=True, methods=["post"], serializer_class=HeldSerializer)
    def held(self, request, pk=None):
        return self.step(request, services.record_review_held, HeldSerializer)
