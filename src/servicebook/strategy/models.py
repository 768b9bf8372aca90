"""Strategy that is measured (R9): measures of objectives and desired outcomes, and readings.

An internal customer shares the organization's objectives (``parties.Objective``); an external
customer records its own desired outcomes on its agreement (``agreements.Outcome``). Either gets
measures: an indicator, a unit, a target, whether higher or lower is better, how often it is read
and where its readings come from (entered, imported from CSV, or computed from Servicebook's own
figures: service level attainment, cost of service, customer satisfaction).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from servicebook.core.models import TimeStampedModel
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.strategy import periods


class Frequency(models.TextChoices):
    MONTHLY = periods.MONTHLY, "Monthly"
    QUARTERLY = periods.QUARTERLY, "Quarterly"
    YEARLY = periods.YEARLY, "Yearly"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class MeasureSource(models.TextChoices):
    ENTERED = "entered", "Entered by hand"
    IMPORTED = "imported", "Imported from a file"
    ATTAINMENT = "attainment", "Computed: service level attainment (%)"
    COST = "cost", "Computed: cost of the services"
    SATISFACTION = "satisfaction", "Computed: customer satisfaction (1-5)"


#: the sources Servicebook computes itself
COMPUTED = frozenset({MeasureSource.ATTAINMENT, MeasureSource.COST, MeasureSource.SATISFACTION})


class ReadingSource(models.TextChoices):
    ENTERED = "entered", "Entered"
    IMPORTED = "imported", "Imported"
    COMPUTED = "computed", "Computed"


class MeasureQuerySet(ScopedQuerySet):
    """A customer user sees the measures of its objectives and of its own outcomes."""

    def scope_for_customer(self, customer):
        return self.filter(
            Q(objective__customers=customer) | Q(outcome__agreement__customer=customer)
        ).distinct()


class Measure(TimeStampedModel):
    """How an objective or a desired outcome is measured."""

    objective = models.ForeignKey(
        "parties.Objective",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="measures",
    )
    outcome = models.ForeignKey(
        "agreements.Outcome",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="measures",
    )
    indicator = models.CharField(max_length=200, help_text="What is measured.")
    unit = models.CharField(max_length=40, help_text="e.g. %, EUR, days, score")
    target = models.DecimalField(max_digits=16, decimal_places=4)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    frequency = models.CharField(
        "period", max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    source = models.CharField(
        max_length=12, choices=MeasureSource.choices, default=MeasureSource.ENTERED
    )

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["indicator", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(objective__isnull=False) & Q(outcome__isnull=True))
                | (Q(objective__isnull=True) & Q(outcome__isnull=False)),
                name="measure_of_objective_or_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} ({self.unit})"

    @property
    def computed(self) -> bool:
        return self.source in COMPUTED

    @property
    def subject(self):
        return self.objective if self.objective_id else self.outcome

    def clean(self) -> None:
        if bool(self.objective_id) == bool(self.outcome_id):
            raise ValidationError({"objective": "measure one objective or one desired outcome"})
        if self.outcome_id and self.source == MeasureSource.COST:
            raise ValidationError(
                {
                    "source": "an external customer's outcome is never measured by the provider's "
                    "cost: choose attainment, satisfaction, entered or imported"
                }
            )


class ReadingQuerySet(ScopedQuerySet):
    def scope_for_customer(self, customer):
        return self.filter(
            Q(measure__objective__customers=customer)
            | Q(measure__outcome__agreement__customer=customer)
        ).distinct()


class Reading(models.Model):
    """One period's value of a measure, where it came from and who recorded it."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="readings")
    period = models.CharField(max_length=7, help_text="YYYY-MM, YYYY-Qn or YYYY")
    value = models.DecimalField(max_digits=16, decimal_places=4)
    source = models.CharField(max_length=10, choices=ReadingSource.choices)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    objects = ReadingQuerySet.as_manager()

    class Meta:
        ordering = ["measure", "period"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "period"], name="reading_once_a_period"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.indicator} {self.period}: {self.value}"

    @property
    def on_target(self) -> bool:
        return periods.on_target(self.measure.direction, self.value, self.measure.target)

    def clean(self) -> None:
        if self.measure_id:
            try:
                periods.check(self.measure.frequency, self.period)
            except periods.MeasurePeriodError as error:
                raise ValidationError({"period": str(error)}) from None
