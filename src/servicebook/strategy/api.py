"""REST API of strategy that is measured (R9): objectives with their strategy page's figures,
measures of objectives and desired outcomes, and their readings (entered, imported, computed)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicebook.agreements.models import Outcome
from servicebook.core.api import PermissionFirstMixin, ScopedWriteSerializer, ServiceBackedViewSet
from servicebook.core.periods import PeriodError, check_period
from servicebook.core.roles import is_provider_staff
from servicebook.demand.models import DemandObjective
from servicebook.improvement.models import Improvement
from servicebook.parties.models import Objective
from servicebook.strategy import selectors, services
from servicebook.strategy.models import Measure, Reading


class ReadingSerializer(serializers.ModelSerializer):
    on_target = serializers.BooleanField(read_only=True)
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = Reading
        fields = ["id", "measure", "period", "value", "source", "note", "on_target", "recorded_by"]

    def get_recorded_by(self, obj) -> str:
        user = obj.recorded_by
        return (user.get_full_name() or user.get_username()) if user else "Servicebook"


class MeasureSerializer(serializers.ModelSerializer):
    readings = ReadingSerializer(many=True, read_only=True)

    class Meta:
        model = Measure
        fields = [
            "id",
            "objective",
            "outcome",
            "indicator",
            "unit",
            "target",
            "direction",
            "frequency",
            "source",
            "readings",
        ]


class MeasureWriteSerializer(ScopedWriteSerializer):
    objective = serializers.PrimaryKeyRelatedField(
        queryset=Objective.objects.all(), required=False, allow_null=True, default=None
    )
    outcome = serializers.PrimaryKeyRelatedField(
        queryset=Outcome.objects.all(), required=False, allow_null=True, default=None
    )

    class Meta:
        model = Measure
        fields = ["objective", "outcome", "indicator", "unit", "target", "direction", "frequency"]
        fields += ["source"]
        validators = []


class ReadingsComputedSerializer(serializers.Serializer):
    """What a computation wrote: a line per reading, and the measures with nothing to read."""

    month = serializers.CharField()
    written = serializers.ListField(child=serializers.CharField())
    without_data = serializers.ListField(child=serializers.CharField())


class RejectedReadingSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The file's row number (the header is row 1)")
    field = serializers.CharField(help_text="The column at fault")
    reason = serializers.CharField()


class ReadingsImportedSerializer(serializers.Serializer):
    """What an import did: ``read == imported + len(rejected)``."""

    read = serializers.IntegerField()
    imported = serializers.IntegerField()
    rejected = RejectedReadingSerializer(many=True)


class MeasuresComputeInput(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM: the period it falls in is computed")

    def validate_month(self, value):
        try:
            return check_period(value)
        except PeriodError as error:
            raise serializers.ValidationError(str(error)) from None


class ReadingsImportInput(serializers.Serializer):
    csv = serializers.CharField(help_text="The CSV text: measure, period, value[, note]")


class MeasureViewSet(ServiceBackedViewSet):
    """Measures of organization objectives and of external customers' desired outcomes, with
    their readings. Customer users see those of their own objectives or outcomes."""

    queryset = Measure.objects.prefetch_related("readings__recorded_by")
    serializer_class = MeasureSerializer
    write_serializer_class = MeasureWriteSerializer
    filterset_fields = ["objective", "outcome", "source"]
    http_method_names = ["get", "post", "head", "options"]
    write_roles = {
        "create": (services.MEASURE_EDITORS, "Adding a measure"),
        "compute": (services.MEASURE_EDITORS, "Computing readings"),
    }

    def create_object(self, data):
        return services.create_measure(actor=self.request.user, **data)

    @extend_schema(request=MeasuresComputeInput, responses={200: ReadingsComputedSerializer})
    @action(detail=False, methods=["post"])
    def compute(self, request):
        """Compute the readings of every computed measure for the period a month falls in."""
        body = MeasuresComputeInput(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(services.compute_readings(actor=request.user, **body.validated_data))


class ReadingWriteSerializer(ScopedWriteSerializer):
    class Meta:
        model = Reading
        fields = ["measure", "period", "value", "note"]
        validators = []


class ReadingViewSet(ServiceBackedViewSet):
    """Readings: a person enters one (a correction replaces the period's value), or a CSV file
    is imported (``import``: each row imported or rejected with its row, column and reason)."""

    queryset = Reading.objects.select_related("measure", "recorded_by")
    serializer_class = ReadingSerializer
    write_serializer_class = ReadingWriteSerializer
    filterset_fields = ["measure", "source", "period"]
    http_method_names = ["get", "post", "head", "options"]
    write_roles = {
        "create": (services.MEASURE_EDITORS, "Recording a reading"),
        "import_csv": (services.MEASURE_EDITORS, "Importing readings"),
    }

    def create_object(self, data):
        return services.record_reading(actor=self.request.user, **data)

    @extend_schema(request=ReadingsImportInput, responses={200: ReadingsImportedSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request):
        body = ReadingsImportInput(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.import_readings(actor=request.user, text=body.validated_data["csv"])
        return Response(result.as_dict())


class StrategyListSerializer(serializers.ModelSerializer):
    """An objective in the list: its measures and readings; the strategy page's services,
    demands and improvements are computed per objective, so they come with its detail only."""

    measures = MeasureSerializer(many=True, read_only=True)

    class Meta:
        model = Objective
        fields = ["id", "title", "description", "measures"]


class StrategySerializer(serializers.ModelSerializer):
    """One objective's strategy page: services with attainment (and cost, staff only),
    demands and improvements serving it, its measures and readings."""

    services = serializers.SerializerMethodField()
    demands = serializers.SerializerMethodField()
    improvements = serializers.SerializerMethodField()
    measures = MeasureSerializer(many=True, read_only=True)

    class Meta:
        model = Objective
        fields = ["id", "title", "description", "services", "demands", "improvements"]
        fields += ["measures"]

    def _user(self):
        return getattr(self.context.get("request"), "user", None)

    def get_services(self, obj) -> list[dict]:
        staff = is_provider_staff(self._user())
        rows, _ = selectors.service_rows(obj, with_cost=staff)
        answer = []
        for row in rows:
            item = {"service": row.service.pk, "name": row.service.name}
            item["attainment_percent"] = None if row.attainment is None else str(row.attainment)
            if staff:
                item["cost"] = None if row.cost is None else str(row.cost)
                item["currency"] = row.currency
            answer.append(item)
        return answer

    def get_demands(self, obj) -> list[dict]:
        links = DemandObjective.objects.visible_to(self._user()).filter(objective=obj)
        return [
            {"demand": link.demand_id, "reference": link.demand.reference, "how": link.how}
            for link in links.select_related("demand")
        ]

    def get_improvements(self, obj) -> list[dict]:
        items = Improvement.objects.visible_to(self._user()).filter(objective=obj)
        return [{"id": i.pk, "title": i.title, "status": i.status} for i in items]


class StrategyViewSet(
    PermissionFirstMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Objectives with their strategy page (internal customers: their own objectives)."""

    serializer_class = StrategySerializer
    queryset = Objective.objects.all()

    def get_serializer_class(self):
        return StrategyListSerializer if self.action == "list" else StrategySerializer

    def get_queryset(self):
        readings = "measures__readings__recorded_by"
        return selectors.objectives_for(self.request.user).prefetch_related(readings)


ROUTES = [
    ("strategy", StrategyViewSet, "strategy"),
    ("measures", MeasureViewSet, "measure"),
    ("readings", ReadingViewSet, "reading"),
]
