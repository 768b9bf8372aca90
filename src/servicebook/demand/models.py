"""Demand and investment requests (R18, R17, R10), business cases, alternatives, capacity.

A customer's authorized requester asks for a new or changed service. How the provider examines
the request is the customer's policy (``demand_check``): an internal customer's request is
challenged (business case with NPV and payback at the provider's discount rate, alternatives
with their cost and whether each meets every requirement, a senior-management justification
when a costlier option is insisted on); an external customer's request is accepted when it is
legal, possible and profitable. Approved demands reserve capacity in pools of staff hours and
technology units.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, MONEY_DIGITS, MONEY_PLACES
from servicebook.core.tenancy import ScopedQuerySet


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class DemandKind(models.TextChoices):
    NEW_SERVICE = "new_service", "New service"
    CHANGED_SERVICE = "changed_service", "Changed service"


class Positioning(models.TextChoices):
    """How the service would be positioned (R10 decides who joins its design)."""

    NEEDS_BASED = "needs_based", "Needs-based"
    DEMAND_BASED = "demand_based", "Demand-based"
    PRE_DEFINED = "pre_defined", "Pre-defined"
    BESPOKE = "bespoke", "Bespoke (for one customer)"


class DemandStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ASSESSMENT = "assessment", "Assessment"
    HELD = "held", "Held for justification"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class DemandRequest(TimeStampedModel):
    """A customer's request for a new or changed service, with the investment it needs.

    ``required_investment`` is what the customer asked for (its preferred option), in the
    customer's billing currency; once the customer chooses an option, that option's cost is the
    investment (:meth:`investment`). An internal request with a negative NPV or a costlier option
    chosen is held until a senior manager records a justification (``justification``,
    ``justified_by``, ``justified_for``: the reasons it covers).
    """

    reference = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="demands"
    )
    requester = models.ForeignKey(
        "parties.Contact", on_delete=models.PROTECT, related_name="demands"
    )
    kind = models.CharField(
        max_length=20, choices=DemandKind.choices, default=DemandKind.NEW_SERVICE
    )
    service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
        help_text="The service to change (for a changed service).",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    expected_outcomes = models.TextField(help_text="What the customer expects to achieve.")
    required_investment = money_field(validators=[MinValueValidator(Decimal(0))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    positioning = models.CharField(
        max_length=20, choices=Positioning.choices, default=Positioning.BESPOKE
    )
    status = models.CharField(
        max_length=12, choices=DemandStatus.choices, default=DemandStatus.SUBMITTED
    )
    chosen = models.ForeignKey(
        "demand.Alternative",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The option the customer chose (internal requests).",
    )
    justification = models.TextField(blank=True)
    justified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    justified_at = models.DateTimeField(null=True, blank=True)
    justified_for = models.CharField(
        max_length=60,
        blank=True,
        help_text="What the justification covers, comma-separated: negative_npv, costlier_option. "
        "A reason that arises later needs a new justification.",
    )
    approved_by_contact = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_reason = models.CharField(max_length=40, blank=True)
    design_service = models.ForeignKey(
        "catalog.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The pipeline service an approved new-service demand became.",
    )
    customer_joins_design = models.BooleanField(null=True, blank=True)
    objectives = models.ManyToManyField(
        "parties.Objective",
        through="demand.DemandObjective",
        blank=True,
        related_name="demands",
        help_text="The organization objectives an internal request serves (R9).",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(required_investment__gte=0), name="demand_investment_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DemandStatus.values), name="demand_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(justified_at__isnull=True) | Q(justified_by__isnull=False),
                name="demand_justification_has_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def investment(self):
        """The investment the request needs: the chosen option's cost, else what was asked."""
        return self.chosen.cost if self.chosen_id else self.required_investment

    @property
    def justified_reasons(self) -> frozenset[str]:
        if not self.justified_at:
            return frozenset()
        return frozenset(code for code in self.justified_for.split(",") if code)

    def clean(self) -> None:
        errors = {}
        if (
            self.requester_id
            and self.customer_id
            and self.requester.customer_id != self.customer_id
        ):
            errors["requester"] = "the requester is a contact of another customer"
        if self.kind == DemandKind.CHANGED_SERVICE and not self.service_id:
            errors["service"] = "name the service to change"
        if errors:
            raise ValidationError(errors)


class DemandChildQuerySet(ScopedQuerySet):
    customer_path = "demand__customer"


class DemandObjective(models.Model):
    """An organization objective an internal request serves, and how (R9): the investment
    challenge shows it next to the business case."""

    demand = models.ForeignKey(
        DemandRequest, on_delete=models.CASCADE, related_name="objective_links"
    )
    objective = models.ForeignKey(
        "parties.Objective", on_delete=models.PROTECT, related_name="demand_links"
    )
    how = models.CharField(
        max_length=300, blank=True, help_text="How the request serves the objective."
    )

    objects = DemandChildQuerySet.as_manager()

    class Meta:
        ordering = ["demand", "objective__title"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "objective"], name="demand_objective_once"),
        ]

    def __str__(self) -> str:
        return f"{self.demand.reference} serves {self.objective}"


class Requirement(models.Model):
    """Something every acceptable option must satisfy (e.g. "ISO 27001 certified site")."""

    demand = models.ForeignKey(DemandRequest, on_delete=models.CASCADE, related_name="requirements")
    text = models.CharField(max_length=300)

    objects = DemandChildQuerySet.as_manager()

    class Meta:
        ordering = ["demand", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "text"], name="requirement_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class Alternative(models.Model):
    """One way to meet an internal request, with its cost and the requirements it meets.

    The customer's own preferred option is recorded as the alternative with ``is_requested``.
    """

    demand = models.ForeignKey(DemandRequest, on_delete=models.CASCADE, related_name="alternatives")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cost = money_field(validators=[MinValueValidator(Decimal(0))])
    meets = models.ManyToManyField(Requirement, blank=True, related_name="met_by")
    is_requested = models.BooleanField(default=False)

    objects = DemandChildQuerySet.as_manager()

    class Meta:
        ordering = ["demand", "cost", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["demand"],
                condition=Q(is_requested=True),
                name="alternative_one_requested_option",
            ),
            models.UniqueConstraint(fields=["demand", "name"], name="alternative_name_unique"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="alternative_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def meets_every_requirement(self) -> bool:
        required = {r.pk for r in self.demand.requirements.all()}
        return required <= {r.pk for r in self.meets.all()}


class BusinessCase(models.Model):
    """The business case of an internal request: expected business outcomes and return on
    investment (NPV and payback at the provider's discount rate, recorded at the time)."""

    demand = models.OneToOneField(
        DemandRequest, on_delete=models.CASCADE, related_name="business_case"
    )
    expected_business_outcomes = models.TextField()
    yearly_net_benefit = money_field(help_text="Benefits minus running cost, per year.")
    years = models.PositiveSmallIntegerField(default=5)
    investment = money_field(help_text="The investment the figures were computed for.")
    discount_rate = models.DecimalField(max_digits=6, decimal_places=4)
    npv = money_field()
    payback_years = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    roi_percent = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    objects = DemandChildQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(years__gte=1) & Q(years__lte=30), name="business_case_horizon"
            ),
        ]

    def __str__(self) -> str:
        return f"Business case of {self.demand.reference}"


class ExternalCheck(models.Model):
    """The legal / possible / profitable check of an external request (no ROI is computed on
    the customer's behalf). ``estimated_cost`` and the margin are never shown to the customer."""

    demand = models.OneToOneField(
        DemandRequest, on_delete=models.CASCADE, related_name="external_check"
    )
    legal = models.BooleanField()
    legal_note = models.TextField(blank=True)
    feasible = models.BooleanField()
    feasibility_note = models.TextField(blank=True)
    quoted_price = money_field(validators=[MinValueValidator(Decimal(0))])
    estimated_cost = money_field(validators=[MinValueValidator(Decimal(0))])
    minimum_margin = models.DecimalField(max_digits=6, decimal_places=4)
    profitable = models.BooleanField()
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(auto_now=True)

    objects = DemandChildQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Check of {self.demand.reference}"


class PoolKind(models.TextChoices):
    STAFF_HOURS = "staff_hours", "Staff hours"
    TECHNOLOGY_UNITS = "technology_units", "Technology units"


class PoolQuerySet(ScopedQuerySet):
    """Pools are provider-wide planning: customer users see none."""

    customer_path = None


class CapacityPool(TimeStampedModel):
    """A limited pool of staff hours or technology units for a period, at a unit cost.

    Internal customers compete for it believing they have "already paid" through the central IT
    budget (R4); approved demands reserve part of it.
    """

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PoolKind.choices)
    unit = models.CharField(max_length=40, help_text="e.g. engineer-hour, rack unit")
    period_start = models.DateField()
    period_end = models.DateField()
    capacity = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    unit_cost = money_field(validators=[MinValueValidator(Decimal(0))])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)

    objects = PoolQuerySet.as_manager()

    class Meta:
        ordering = ["period_start", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "period_start"], name="pool_name_period"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="pool_period_order"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=0), name="pool_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d})"

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "the period ends before it starts"})


class CapacityNeed(models.Model):
    """How much of a pool a demand needs; reserved when the demand is approved."""

    demand = models.ForeignKey(
        DemandRequest, on_delete=models.CASCADE, related_name="capacity_needs"
    )
    pool = models.ForeignKey(CapacityPool, on_delete=models.PROTECT, related_name="needs")
    quantity = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    reserved = models.BooleanField(default=False)

    objects = DemandChildQuerySet.as_manager()

    class Meta:
        ordering = ["pool", "demand"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "pool"], name="capacity_need_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="capacity_need_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.demand.reference}: {self.quantity} {self.pool.unit}"


class DemandEvent(EventModel):
    """One step in a demand's life (submitted, challenged, held, justified, approved…)."""

    demand = models.ForeignKey(DemandRequest, on_delete=models.PROTECT, related_name="events")

    objects = DemandChildQuerySet.as_manager()
