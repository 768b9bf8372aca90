"""REST API of exchange rates (staff read; finance and the provider admin write): the rates,
one entered (``POST /api/exchange-rates/``), an ECB file imported
(``POST /api/exchange-rates/import/``, multipart ``file`` or JSON ``text``), and the rate of a
day (``GET /api/exchange-rates/on/?currency=USD&date=2026-10-31``)."""

from __future__ import annotations

from django.http import Http404
from django.utils.dateparse import parse_date
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.core.api import PermissionFirstMixin
from servicebook.core.errors import DomainError
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.roles import is_provider_staff
from servicebook.finance.fx import services
from servicebook.finance.fx.models import ExchangeRate
from servicebook.finance.fx.selectors import rate_on
from servicebook.parties.models import Provider


class ExchangeRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "date", "base", "currency", "rate", "source", "note", "entered_by"]
        read_only_fields = ["source", "entered_by"]
        validators = []
        extra_kwargs = {"base": {"required": False}}


class RateImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False)
    text = serializers.CharField(required=False, trim_whitespace=False)


class ExchangeRateViewSet(
    PermissionFirstMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Exchange rates by day and currency pair (1 base = rate currency), newest first. POST
    enters (or replaces) one; ``import`` reads an ECB reference rate CSV and answers
    ``read = imported + rejected`` with each reject's row, field and reason."""

    queryset = ExchangeRate.objects.select_related("entered_by")
    serializer_class = ExchangeRateSerializer
    filterset_fields = ["currency", "base", "date", "source"]
    write_roles = {
        "create": (services.RATE_EDITORS, "Entering an exchange rate"),
        "import_file": (services.RATE_EDITORS, "Importing exchange rates"),
    }

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = ExchangeRateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row = services.record_rate(
            actor=request.user,
            date=data["date"],
            currency=data["currency"],
            rate=data["rate"],
            base=data.get("base"),
            note=data.get("note", ""),
        )
        return Response(ExchangeRateSerializer(row).data, status=status.HTTP_201_CREATED)

    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        serializer_class=RateImportSerializer,
    )
    def import_file(self, request):
        """Import an ECB reference rate CSV (eurofxref.csv or eurofxref-hist.csv)."""
        serializer = RateImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data.get("file")
        text = serializer.validated_data.get("text")
        if upload is None and not text:
            raise DomainError("send the ECB file as 'file' (multipart) or 'text'", field="file")
        if upload is not None:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DomainError("the file is not UTF-8 text (an ECB CSV)", field="file") from None
        return Response(services.import_ecb_rates(actor=request.user, text=text or ""))

    @action(detail=False, methods=["get"])
    def on(self, request):
        """The rate of a day: the latest on or before ``date`` (400 naming the pair if none)."""
        if not is_provider_staff(request.user):
            raise Http404
        currency = request.query_params.get("currency", "")
        day = parse_date(request.query_params.get("date", "") or "")
        if currency not in dict(CURRENCY_CHOICES):
            raise DomainError(f"unknown currency {currency!r}", field="currency")
        if day is None:
            raise DomainError("date must be YYYY-MM-DD", field="date")
        base = request.query_params.get("base") or Provider.current().base_currency
        rate = rate_on(base, currency, day)
        return Response(
            {
                "base": rate.base,
                "currency": rate.currency,
                "rate": str(rate.value),
                "date": rate.date.isoformat() if rate.date else None,
                "source": rate.source,
                "asked_for": day.isoformat(),
            }
        )


ROUTES = [("exchange-rates", ExchangeRateViewSet, "exchangerate")]
