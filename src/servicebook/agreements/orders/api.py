"""REST API of customer orders (issue 15): ``/api/orders/``.

Customer users order (POST) and their customer's approvers ``approve`` / ``reject``; every
order is read scoped (another customer's order is a 404; staff read all). Who may act is checked
before the body is read. An external customer's order carries its price; nothing here names a
cost for a user who may not see one (R7).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.agreements.filters import ORDER_ORDERING, OrderFilter
from servicebook.agreements.models import Agreement
from servicebook.agreements.orders import services
from servicebook.agreements.orders.models import Order, OrderBasis
from servicebook.agreements.orders.selectors import budget_left, effective_period
from servicebook.catalog.models import Offering
from servicebook.core.api import PermissionFirstMixin, ScopedInputSerializer
from servicebook.core.errors import PermissionDenied
from servicebook.core.tenancy import customer_of
from servicebook.policy import user_may_see_cost


class OrderSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    agreement_reference = serializers.CharField(source="agreement.reference", read_only=True)
    offering_name = serializers.CharField(source="offering.name", read_only=True)
    requester = serializers.CharField(source="requester.name", read_only=True)
    approvers = serializers.SerializerMethodField()
    decided_by = serializers.CharField(
        source="decided_by.name", read_only=True, default=None, allow_null=True
    )
    budget_left = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "reference",
            "agreement",
            "agreement_reference",
            "offering",
            "offering_name",
            "quantity",
            "basis",
            "unit_rate",
            "monthly_amount",
            "yearly_amount",
            "currency",
            "status",
            "note",
            "requester",
            "approvers",
            "decided_by",
            "decided_at",
            "reason",
            "effective_from",
            "applied_version",
            "created_at",
            "budget_left",
        ]

    def get_approvers(self, obj) -> list[str]:
        return [contact.name for contact in obj.approvers.order_by("name")]

    @extend_schema_field(serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True))
    def get_budget_left(self, obj) -> str | None:
        """An internal customer's budget left for the next period (orders charged at cost)."""
        request = self.context.get("request")
        if obj.basis != OrderBasis.COST or not user_may_see_cost(getattr(request, "user", None)):
            return None
        from django.utils import timezone

        _, left = budget_left(obj.agreement.customer, effective_period(timezone.localdate()))
        return None if left is None else str(left)


class OrderInputSerializer(ScopedInputSerializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all())
    offering = serializers.PrimaryKeyRelatedField(queryset=Offering.objects.all())
    quantity = serializers.CharField(max_length=40)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OrderDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def _require_customer_user(user, what: str) -> None:
    if customer_of(user) is None:
        raise PermissionDenied(
            f"{what} needs one of these roles: {services.ORDERING_ROLES} (the customer's own "
            "people)"
        )


class OrderViewSet(
    PermissionFirstMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Orders of offerings on agreements: order (POST), ``approve``, ``reject``."""

    queryset = Order.objects.select_related(
        "agreement", "offering", "requester", "decided_by"
    ).prefetch_related("approvers")
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ORDER_ORDERING
    customer_actions = {
        "create": "Ordering",
        "approve": "Approving an order",
        "reject": "Rejecting an order",
    }

    def initial(self, request, *args, **kwargs):
        what = self.customer_actions.get(getattr(self, "action", None) or "")
        if what and request.user.is_authenticated:
            _require_customer_user(request.user, what)  # staff: 403 whatever the body
            if self.detail:
                self.get_object()  # another customer's order: 404 before the body is read
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def _answer(self, order, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=order.pk)
        return Response(OrderSerializer(fresh, context=self.get_serializer_context()).data, code)

    @extend_schema(request=OrderInputSerializer, responses=OrderSerializer)
    def create(self, request):
        """Order more of an offering on one of your customer's active agreements."""
        body = OrderInputSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        order = services.submit_order(actor=request.user, **body.validated_data)
        return self._answer(order, status.HTTP_201_CREATED)

    @extend_schema(request=OrderDecisionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve an order awaiting your approval (an approver of the same customer)."""
        order = self.get_object()
        body = OrderDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.approve_order(actor=request.user, order=order, **body.validated_data)
        return self._answer(order)

    @extend_schema(request=OrderDecisionSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject an order awaiting your approval, saying why (``reason`` is required)."""
        order = self.get_object()
        body = OrderDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.reject_order(actor=request.user, order=order, **body.validated_data)
        return self._answer(order)


ROUTES = [("orders", OrderViewSet, "order")]
