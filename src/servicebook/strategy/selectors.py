"""Reads for the strategy pages, the API and the service review pack (R9).

A customer user sees the objectives its customer shares (internal) and the desired outcomes of
its own agreements (external); provider staff see all. Cost is provider staff's only here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Prefetch, Q, Sum

from servicebook.core.charts import chart_json
from servicebook.core.roles import is_provider_staff
from servicebook.core.tenancy import customer_of
from servicebook.parties.models import Customer, Objective
from servicebook.strategy import periods
from servicebook.strategy.models import Measure, Reading

#: how many months of attainment and cost the strategy page sums up
RECENT_MONTHS = 3


def objectives_for(user):
    """The objectives ``user`` may read: all for staff, its customer's for a customer user."""
    queryset = Objective.objects.prefetch_related("customers", "services")
    if is_provider_staff(user):
        return queryset
    own = customer_of(user)
    return queryset.filter(customers=own).distinct() if own else queryset.none()


def measures_for(user):
    return Measure.objects.visible_to(user).select_related(
        "objective", "outcome__agreement__customer"
    )


def readings_for(user):
    return Reading.objects.visible_to(user).select_related("measure", "recorded_by")


@dataclass
class MeasureView:
    """A measure with its readings in time order, the latest, and its trend chart."""

    measure: Measure
    readings: list[Reading] = field(default_factory=list)

    @property
    def latest(self) -> Reading | None:
        return self.readings[-1] if self.readings else None

    @property
    def chart(self) -> str:
        m = self.measure
        return chart_json(
            [r.period for r in self.readings],
            [r.value for r in self.readings],
            f"{m.indicator} ({m.unit})",
            target=m.target,
        )


def measure_views(measures, *, up_to: str | None = None) -> list[MeasureView]:
    """Each measure with its readings (those of periods up to the month ``up_to`` only)."""
    views = []
    for measure in measures.prefetch_related(
        Prefetch("readings", queryset=Reading.objects.order_by("period"))
    ):
        readings = sorted(measure.readings.all(), key=lambda r: periods.sort_key(r.period))
        if up_to is not None:
            last = periods.period_of(measure.frequency, up_to)
            readings = [r for r in readings if periods.sort_key(r.period) <= periods.sort_key(last)]
        views.append(MeasureView(measure, readings))
    return views


@dataclass
class ServiceRow:
    """A service serving an objective: its recent attainment and (staff) cost."""

    service: object
    attainment: Decimal | None
    cost: Decimal | None
    currency: str = ""


def _recent_months() -> list[str]:
    from servicebook.levels.models import Attainment

    latest = Attainment.objects.order_by("-period").values_list("period", flat=True).first()
    if latest is None:
        return []
    from servicebook.core.periods import periods_ending

    return periods_ending(latest, RECENT_MONTHS)


def service_rows(objective: Objective, *, with_cost: bool) -> tuple[list[ServiceRow], list[str]]:
    """The services serving ``objective`` with their average attainment over the recent months
    and, for provider staff, their cost over the same months."""
    from servicebook.finance.costing.models import ServiceCost
    from servicebook.levels.models import Attainment

    months = _recent_months()
    rows = []
    for service in objective.services.order_by("name"):
        attainment = (
            Attainment.objects.filter(period__in=months, measured_percent__isnull=False)
            .filter(
                Q(target__service=service)
                | Q(
                    target__service__isnull=True,
                    agreement__customer__in=objective.customers.all(),
                    agreement__lines__offering__service=service,
                )
            )
            .distinct()
            .aggregate(value=Avg("measured_percent"))["value"]
        )
        cost, currency = None, ""
        if with_cost:
            costs = ServiceCost.objects.filter(period__in=months, service=service)
            cost = costs.aggregate(value=Sum("total"))["value"]
            currency = costs.values_list("currency", flat=True).first() or ""
        rows.append(
            ServiceRow(
                service,
                None if attainment is None else Decimal(attainment).quantize(Decimal("0.01")),
                cost,
                currency,
            )
        )
    return rows, months


def outcomes_in_pack(customer: Customer, period: str) -> list[dict]:
    """An external customer's desired outcomes with their measures and readings up to the
    pack's month (the service review pack; never cost: an outcome is not measured by it)."""
    from servicebook.agreements.models import Outcome

    outcomes = Outcome.objects.filter(agreement__customer=customer).select_related("agreement")
    return [
        {
            "outcome": outcome,
            "measures": measure_views(Measure.objects.filter(outcome=outcome), up_to=period),
        }
        for outcome in outcomes
    ]
