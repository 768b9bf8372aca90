"""REST API of the ledger: the chart of accounts, balances, journal entries, adjustments and
``verify`` (finance and the provider admin only), and what every finance viewset shares."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.core.api import PermissionFirstMixin
from servicebook.core.idempotency import header_parameter, key_of
from servicebook.core.roles import is_provider_staff
from servicebook.core.services import require_role
from servicebook.finance.ledger import access, services
from servicebook.finance.ledger.filters import ENTRY_ORDERING, JournalEntryFilter
from servicebook.finance.ledger.models import Account, JournalEntry, JournalLine
from servicebook.finance.ledger.selectors import balances
from servicebook.finance.ledger.verify import verify
from servicebook.parties.models import Customer


class ScopedReadOnlyViewSet(PermissionFirstMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only, scoped by ``visible_to``: another customer's object is a 404."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


def require_staff(request) -> None:
    if not is_provider_staff(request.user):
        raise Http404


class LedgerReadersOnly:
    """The ledger is for finance and the provider admin only (``access.may_read_ledger``):
    every other signed-in user gets 403 with the reason, on every route of the viewset."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        access.require_ledger_reader(request.user)


class PeriodInputSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=7, help_text="YYYY-MM")


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "code", "name", "type", "purpose", "cost_centre"]


class LedgerBalanceSerializer(serializers.Serializer):
    """Debit, credit and balance of one account in one currency."""

    account = serializers.CharField(help_text="Account code")
    name = serializers.CharField()
    type = serializers.CharField()
    currency = serializers.CharField()
    debit = serializers.DecimalField(max_digits=18, decimal_places=2)
    credit = serializers.DecimalField(max_digits=18, decimal_places=2)
    balance = serializers.DecimalField(max_digits=18, decimal_places=2)


class LedgerVerifySerializer(serializers.Serializer):
    """The result of checking every ledger invariant (``ledger verify``)."""

    ok = serializers.BooleanField()
    entries = serializers.IntegerField()
    lines = serializers.IntegerField()
    checks = serializers.DictField(
        child=serializers.IntegerField(), help_text="Violations found per check"
    )
    violations = serializers.ListField(child=serializers.CharField())


class AccountViewSet(LedgerReadersOnly, ScopedReadOnlyViewSet):
    """The chart of accounts (finance and the provider admin only)."""

    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    filterset_fields = ["type", "purpose"]

    @extend_schema(
        responses=LedgerBalanceSerializer(many=True),
        parameters=[OpenApiParameter("period", str, description="Only this month (YYYY-MM)")],
        filters=False,
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def balances(self, request):
        """Debit, credit and balance per account and currency (``?period=`` optional)."""
        rows = balances(period=request.query_params.get("period"))
        return Response(LedgerBalanceSerializer(rows, many=True).data)


class JournalLineSerializer(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)

    class Meta:
        model = JournalLine
        fields = [
            "account",
            "account_code",
            "debit",
            "credit",
            "currency",
            "customer",
            "memo",
            "rate",
            "base_debit",
            "base_credit",
        ]


class JournalEntrySerializer(serializers.ModelSerializer):
    lines = JournalLineSerializer(many=True, read_only=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id",
            "number",
            "period",
            "date",
            "kind",
            "memo",
            "customer",
            "reverses",
            "posted_at",
            "lines",
        ]


class AdjustmentLineSerializer(serializers.Serializer):
    account = serializers.CharField(help_text="Account code")
    debit = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default=0)
    credit = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, default=0)
    currency = serializers.CharField(max_length=3)


class AdjustmentSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=7)
    memo = serializers.CharField(max_length=200)
    lines = AdjustmentLineSerializer(many=True)
    customer = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
        help_text="Code of the customer the entry concerns: its policy decides the accounts",
    )


class JournalReversalSerializer(serializers.Serializer):
    period = serializers.CharField(max_length=7, help_text="An open month, YYYY-MM")
    reason = serializers.CharField(max_length=180)


class JournalEntryViewSet(LedgerReadersOnly, ScopedReadOnlyViewSet):
    """Posted journal entries (finance and the provider admin only). Immutable: corrections are
    new adjustments."""

    queryset = JournalEntry.objects.prefetch_related("lines__account")
    serializer_class = JournalEntrySerializer
    filterset_class = JournalEntryFilter
    ordering_fields = ENTRY_ORDERING
    write_roles = {
        "adjust": (services.LEDGER_WRITERS, "Posting an adjustment"),
        "reverse": (services.LEDGER_WRITERS, "Reversing an entry"),
    }

    @extend_schema(
        request=AdjustmentSerializer,
        parameters=[header_parameter("adjustment")],
        responses={201: JournalEntrySerializer, 200: JournalEntrySerializer},
    )
    @action(detail=False, methods=["post"], serializer_class=AdjustmentSerializer)
    def adjust(self, request):
        """Post an adjustment entry in an open period (finance); with an ``Idempotency-Key``
        header, the same key again answers 200 with the entry it posted."""
        require_role(request.user, *services.LEDGER_WRITERS, action="Posting an adjustment")
        serializer = AdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.post_adjustment(
            actor=request.user,
            period=data["period"],
            memo=data["memo"],
            lines=[{**line} for line in data["lines"]],
            customer=data.get("customer"),
            request_key=key_of(request),
        )
        code = status.HTTP_200_OK if entry.repeated else status.HTTP_201_CREATED
        entry = JournalEntry.objects.prefetch_related("lines__account").get(pk=entry.pk)
        return Response(JournalEntrySerializer(entry).data, status=code)

    @extend_schema(request=JournalReversalSerializer, responses={201: JournalEntrySerializer})
    @action(detail=True, methods=["post"], serializer_class=JournalReversalSerializer)
    def reverse(self, request, pk=None):
        """Reverse an entry: a new entry with debits and credits swapped, in an open period, with
        a reason; the entry never changes, and is reversed once."""
        require_role(request.user, *services.LEDGER_WRITERS, action="Reversing an entry")
        entry = self.get_object()
        serializer = JournalReversalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reversal = services.reverse_entry(
            actor=request.user, entry=entry, **serializer.validated_data
        )
        reversal = JournalEntry.objects.prefetch_related("lines__account").get(pk=reversal.pk)
        return Response(JournalEntrySerializer(reversal).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=LedgerVerifySerializer, filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def verify(self, request):
        """Check every ledger invariant (``ok`` false lists the violations)."""
        return Response(LedgerVerifySerializer(verify()).data)


ROUTES = [
    ("accounts", AccountViewSet, "account"),
    ("journal-entries", JournalEntryViewSet, "journalentry"),
]
