"""Costing's models: cost pools, allocation rules and shares, driver values, service and unit
costs (R4), and the overrides that let a contract line be priced below cost (R6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from servicebook.catalog.models import Offering, Service, rate_field
from servicebook.core.models import TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.finance.ledger.models import ProviderWideQuerySet, same_amount, validate_period
from servicebook.parties.models import money_field


class CostCategory(models.TextChoices):
    """The cost pools of the TBM taxonomy."""

    INTERNAL_LABOR = "internal_labor", "Internal labor"
    EXTERNAL_LABOR = "external_labor", "External labor"
    HARDWARE = "hardware", "Hardware"
    SOFTWARE = "software", "Software"
    OUTSIDE_SERVICES = "outside_services", "Outside services"
    FACILITIES_POWER = "facilities_power", "Facilities and power"
    TELECOM = "telecom", "Telecom"
    CLOUD_SERVICES = "cloud_services", "Cloud services"
    OTHER = "other", "Other"


#: Categories that buy capacity (staff and technology) which external revenue funds (R8).
CAPACITY_CATEGORIES = (
    CostCategory.INTERNAL_LABOR,
    CostCategory.EXTERNAL_LABOR,
    CostCategory.HARDWARE,
    CostCategory.CLOUD_SERVICES,
)


class CostPool(TimeStampedModel):
    """What the provider spent in one TBM cost category in one month (e.g. hardware, 2026-10).

    Pools are allocated to services by allocation rules to give the cost of each service (R4).
    """

    period = models.CharField(max_length=7, validators=[validate_period], db_index=True)
    category = models.CharField(max_length=20, choices=CostCategory.choices)
    name = models.CharField(max_length=120, help_text="e.g. 'Data centre staff'")
    amount = money_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    source = models.CharField(max_length=20, default="ui", help_text="ui, csv or api")

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["period", "category", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "category", "name"], name="cost_pool_unique_per_period"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="cost_pool_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.get_category_display()}: {self.name}"


class Driver(models.TextChoices):
    FIXED = "fixed", "Fixed percentages"
    HEADCOUNT = "headcount", "Headcount"
    TICKETS = "tickets", "Tickets"
    USAGE = "usage", "Metered usage (at standard cost)"


class AllocationRule(TimeStampedModel):
    """How the pools of one TBM category reach services: by fixed percentages or by a driver.

    A fixed rule lists shares that sum to 100; a share without a service is shared and idle
    capacity. Driver rules split in proportion to the period's driver values per service.
    """

    category = models.CharField(max_length=20, choices=CostCategory.choices, unique=True)
    driver = models.CharField(max_length=10, choices=Driver.choices)
    note = models.CharField(max_length=200, blank=True)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["category"]

    def __str__(self) -> str:
        return f"{self.get_category_display()} by {self.get_driver_display().lower()}"


class AllocationShare(models.Model):
    """One share of a fixed-percentage rule: ``percent`` of the pool to ``service``.

    An empty service means shared and idle capacity (shown separately or spread, by setting).
    """

    rule = models.ForeignKey(AllocationRule, on_delete=models.CASCADE, related_name="shares")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    percent = models.DecimalField(max_digits=7, decimal_places=4)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["rule", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100), name="share_percent_range"
            ),
            models.UniqueConstraint(fields=["rule", "service"], name="share_service_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.percent}% → {self.service or 'shared and idle capacity'}"


class DriverValue(models.Model):
    """A driver's measure for one service in one period (e.g. 12 staff, 340 tickets)."""

    period = models.CharField(max_length=7, validators=[validate_period])
    driver = models.CharField(max_length=10, choices=Driver.choices)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=18, decimal_places=4)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["period", "driver", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "driver", "service"], name="driver_value_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="driver_value_positive"),
            models.CheckConstraint(condition=~Q(driver="fixed"), name="driver_value_not_fixed"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.driver} {self.service_id}: {self.quantity}"


class ServiceCost(models.Model):
    """The cost of one service in one period, from the allocated cost pools (R4).

    ``idle`` is the shared and idle capacity spread onto this service (zero when idle capacity is
    shown separately, then held by the row with no service).
    """

    period = models.CharField(max_length=7, validators=[validate_period], db_index=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allocated = money_field()
    idle = money_field(default=0)
    total = money_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    breakdown = models.JSONField(default=dict, help_text="Amount per cost category.")

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["period", "service__name"]
        constraints = [
            models.UniqueConstraint(fields=["period", "service"], name="service_cost_unique"),
            models.CheckConstraint(
                condition=same_amount("total", F("allocated") + F("idle")),
                name="service_cost_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.service or 'shared and idle capacity'}: {self.total}"


class UnitCost(models.Model):
    """The cost of one unit of an offering in one period: its share of the service cost divided
    by the units consumed. Internal charges of the period use it (at cost, R5); it is never shown
    to external users (R7)."""

    period = models.CharField(max_length=7, validators=[validate_period], db_index=True)
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=22, decimal_places=6)
    cost = money_field()
    unit_cost = rate_field()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        ordering = ["period", "offering"]
        constraints = [
            models.UniqueConstraint(fields=["period", "offering"], name="unit_cost_unique"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="unit_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.offering_id}: {self.unit_cost}"


class PriceFloorOverride(models.Model):
    """A finance user's recorded decision to let a contract line be priced below its unit cost
    (R6: a commercial provider cannot activate such a contract without one)."""

    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.CASCADE, related_name="price_overrides"
    )
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ProviderWideQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "offering"], name="price_override_unique"),
            models.CheckConstraint(condition=~Q(reason=""), name="price_override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference} {self.offering.code}: {self.reason[:40]}"
