"""REST API of costing (staff only): cost pools and their computation, allocation rules,
service and unit costs (R4), price-floor overrides (R6)."""

from __future__ import annotations

from django.http import Http404
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.agreements.models import Agreement
from servicebook.core.api import PermissionFirstMixin, ScopedWriteSerializer
from servicebook.core.services import require_role
from servicebook.finance.costing import services
from servicebook.finance.costing.models import (
    AllocationRule,
    CostPool,
    PriceFloorOverride,
    ServiceCost,
    UnitCost,
)
from servicebook.finance.costing.selectors import check_price_floor
from servicebook.finance.ledger.api import (
    PeriodInputSerializer,
    ScopedReadOnlyViewSet,
    require_staff,
)


class CostPoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = CostPool
        fields = ["id", "period", "category", "name", "amount", "currency", "source"]
        read_only_fields = ["source"]
        validators = []


class CostPoolViewSet(
    PermissionFirstMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Cost pools by TBM category and period (staff only); POST records or replaces one."""

    queryset = CostPool.objects.all()
    serializer_class = CostPoolSerializer
    filterset_fields = ["period", "category"]
    write_roles = {
        "create": (services.COST_EDITORS, "Recording a cost pool"),
        "compute": (services.COST_EDITORS, "Computing service costs"),
    }

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        require_role(request.user, *services.COST_EDITORS, action="Recording a cost pool")
        serializer = CostPoolSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pool = services.set_cost_pool(actor=request.user, source="api", **serializer.validated_data)
        return Response(CostPoolSerializer(pool).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"], serializer_class=PeriodInputSerializer)
    def compute(self, request):
        """Allocate a period's pools to services and derive unit costs: ``{"period": …}``."""
        period = request.data.get("period", "")
        return Response(services.compute_service_costs(actor=request.user, period=period))


class AllocationRuleSerializer(serializers.ModelSerializer):
    shares = serializers.SerializerMethodField()

    class Meta:
        model = AllocationRule
        fields = ["id", "category", "driver", "note", "shares"]

    def get_shares(self, obj) -> list[dict]:
        return [{"service": s.service_id, "percent": str(s.percent)} for s in obj.shares.all()]


class AllocationRuleViewSet(ScopedReadOnlyViewSet):
    queryset = AllocationRule.objects.prefetch_related("shares")
    serializer_class = AllocationRuleSerializer


class ServiceCostSerializer(serializers.ModelSerializer):
    service_name = serializers.CharField(
        source="service.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ServiceCost
        fields = [
            "id",
            "period",
            "service",
            "service_name",
            "allocated",
            "idle",
            "total",
            "currency",
            "breakdown",
        ]


class ServiceCostViewSet(ScopedReadOnlyViewSet):
    """Cost of each service per period (R4; staff only)."""

    queryset = ServiceCost.objects.select_related("service")
    serializer_class = ServiceCostSerializer
    filterset_fields = ["period", "service"]


class UnitCostSerializer(serializers.ModelSerializer):
    class Meta:
        model = UnitCost
        fields = ["id", "period", "offering", "quantity", "cost", "unit_cost", "currency"]


class UnitCostViewSet(ScopedReadOnlyViewSet):
    """Unit cost per offering per period (R4; staff only)."""

    queryset = UnitCost.objects.all()
    serializer_class = UnitCostSerializer
    filterset_fields = ["period", "offering"]


class PriceOverrideSerializer(ScopedWriteSerializer):
    class Meta:
        model = PriceFloorOverride
        fields = ["id", "agreement", "offering", "reason", "recorded_by", "recorded_at"]
        read_only_fields = ["recorded_by", "recorded_at"]
        validators = []


class PriceOverrideViewSet(
    PermissionFirstMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """R6: a finance user's override letting a contract line be priced below cost."""

    queryset = PriceFloorOverride.objects.order_by("pk")
    serializer_class = PriceOverrideSerializer
    filterset_fields = ["agreement"]
    write_roles = {"create": (services.FINANCE, "Overriding the price floor")}

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        require_staff(request)
        serializer = PriceOverrideSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        override = services.record_price_override(actor=request.user, **serializer.validated_data)
        return Response(PriceOverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["get"])
    def check(self, request):
        """``?agreement=<id>``: why the contract cannot be activated below cost (empty: it can)."""
        require_staff(request)
        try:
            agreement = Agreement.objects.visible_to(request.user).get(
                pk=request.query_params.get("agreement")
            )
        except (Agreement.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        return Response({"agreement": agreement.pk, "problems": check_price_floor(agreement)})


ROUTES = [
    ("cost-pools", CostPoolViewSet, "costpool"),
    ("allocation-rules", AllocationRuleViewSet, "allocationrule"),
    ("service-costs", ServiceCostViewSet, "servicecost"),
    ("unit-costs", UnitCostViewSet, "unitcost"),
    ("price-overrides", PriceOverrideViewSet, "priceoverride"),
]
