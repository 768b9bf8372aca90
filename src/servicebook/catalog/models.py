"""The service catalog: services and the offerings customers subscribe to."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from servicebook.core.models import TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, RATE_DIGITS, RATE_PLACES
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.parties.models import Provider
from servicebook.policy import policy_for


def rate_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, **kwargs)


class ServiceStatus(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    LIVE = "live", "Live"
    RETIRED = "retired", "Retired"


class Audience(models.TextChoices):
    ALL = "all", "All customers"
    INTERNAL = "internal", "Internal customers only"
    EXTERNAL = "external", "External customers only"


class CatalogQuerySet(ScopedQuerySet):
    """The catalog is provider-wide: customer users see the live part offered to their kind."""

    customer_path = None
    audience_path = "offered_to"
    status_path = "status"

    def scope_for_customer(self, customer):
        audiences = policy_for(customer).catalog_audiences
        return self.filter(
            **{f"{self.audience_path}__in": audiences, self.status_path: ServiceStatus.LIVE}
        )


class TaxKind(models.TextChoices):
    """Which VAT rate of a jurisdiction a service is taxed at (``finance.billing.tax``)."""

    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    EXEMPT = "exempt", "Exempt"


class Service(TimeStampedModel):
    """Something the provider delivers that creates value for customers (e.g. Workplace IT)."""

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=ServiceStatus.choices, default=ServiceStatus.PIPELINE
    )
    offered_to = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ALL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_services",
    )
    data_locations = models.JSONField(
        default=list, blank=True, help_text="ISO country codes where the service stores data."
    )
    objectives = models.ManyToManyField("parties.Objective", blank=True, related_name="services")
    tax_kind = models.CharField(
        max_length=10,
        choices=TaxKind.choices,
        default=TaxKind.STANDARD,
        help_text="The VAT rate its sales are taxed at: standard, reduced or exempt.",
    )

    objects = CatalogQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        codes = self.data_locations
        if not isinstance(codes, list) or not all(
            isinstance(code, str) and len(code) == 2 and code.isupper() for code in codes
        ):
            raise ValidationError({"data_locations": "a list of ISO country codes, e.g. FR"})


class Unit(models.TextChoices):
    USER_MONTH = "user_month", "user-month"
    DEVICE_MONTH = "device_month", "device-month"
    GB_MONTH = "gb_month", "GB-month"
    VM_HOUR = "vm_hour", "VM-hour"
    TICKET = "ticket", "ticket"
    HOUR = "hour", "hour"
    API_CALL = "api_call", "API call"
    LICENCE_MONTH = "licence_month", "licence-month"
    MONTH = "month", "month"


class ChargeModel(models.TextChoices):
    FLAT = "flat", "Flat fee per period"
    PER_UNIT = "per_unit", "Per unit"
    GRADUATED = "graduated", "Graduated tiers"
    VOLUME = "volume", "Volume tiers"
    PACKAGE = "package", "Package"


TIERED_MODELS = {ChargeModel.GRADUATED, ChargeModel.VOLUME}


class OfferingQuerySet(CatalogQuerySet):
    audience_path = "service__offered_to"
    status_path = "service__status"

    def scope_for_customer(self, customer):
        return super().scope_for_customer(customer).filter(active=True)


class Offering(TimeStampedModel):
    """A priced, measurable way to consume a service: a unit, a charge model and a list price.

    ``standard_unit_cost`` is the provider's cost of one unit; it is never shown to external
    customer users (R7).
    """

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="offerings")
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, choices=Unit.choices)
    charge_model = models.CharField(
        max_length=10, choices=ChargeModel.choices, default=ChargeModel.PER_UNIT
    )
    list_price = rate_field(
        validators=[MinValueValidator(Decimal(0))],
        help_text="Price per unit (or per package, or per period if flat).",
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    package_size = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    standard_unit_cost = rate_field(
        null=True,
        blank=True,
        help_text="Cost of one unit to the provider (never shown externally).",
    )
    active = models.BooleanField(default=True)

    objects = OfferingQuerySet.as_manager()

    EDITABLE_FIELDS = (
        "code",
        "name",
        "unit",
        "charge_model",
        "list_price",
        "currency",
        "package_size",
        "standard_unit_cost",
    )

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="offering_price_positive"),
            models.CheckConstraint(
                condition=Q(standard_unit_cost__isnull=True) | Q(standard_unit_cost__gte=0),
                name="offering_cost_positive",
            ),
            models.CheckConstraint(
                condition=~Q(charge_model="package") | Q(package_size__gt=0),
                name="offering_package_has_size",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.name}: {self.name}"

    def clean(self) -> None:
        if self.charge_model == ChargeModel.PACKAGE and not self.package_size:
            raise ValidationError({"package_size": "a package offering needs a package size"})
        if self.charge_model != ChargeModel.PACKAGE and self.package_size:
            raise ValidationError({"package_size": "only package offerings have a package size"})


class PriceTier(models.Model):
    """One tier of a graduated or volume price: from ``lower_bound`` units at ``unit_price``."""

    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="tiers")
    lower_bound = models.DecimalField(max_digits=18, decimal_places=4)
    unit_price = rate_field()

    class Meta:
        ordering = ["offering", "lower_bound"]
        constraints = [
            models.UniqueConstraint(fields=["offering", "lower_bound"], name="tier_bound_unique"),
            models.CheckConstraint(condition=Q(lower_bound__gte=0), name="tier_bound_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="tier_price_positive"),
        ]

    def __str__(self) -> str:
        return f"from {self.lower_bound}: {self.unit_price}"


class Positioning(models.TextChoices):
    PRE_DEFINED = "pre_defined", "Pre-defined service"
    BESPOKE = "bespoke", "Designed for one customer"
    NEEDS_BASED = "needs_based", "Needs-based positioning"
    DEMAND_BASED = "demand_based", "Demand-based positioning"


class SpecificationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED_OFF = "signed_off", "Signed off"
    SUPERSEDED = "superseded", "Superseded"


class DesignSpecQuerySet(ScopedQuerySet):
    customer_path = "customer"


class DesignSpecification(TimeStampedModel):
    """A versioned design of a service (R10): its functionality and manageability requirements.

    When designed with an internal customer, the customer signs it off before the service goes
    live, and it records the expected return on investment and the constraints. With an external
    customer it records functionality and price; no customer ROI is computed.
    """

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="specifications")
    version = models.PositiveIntegerField(default=1)
    customer = models.ForeignKey(
        "parties.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="specifications",
        help_text="The customer this design is made with (empty: a pre-defined service).",
    )
    positioning = models.CharField(
        max_length=14, choices=Positioning.choices, default=Positioning.PRE_DEFINED
    )
    functionality = models.TextField(help_text="What the service does (utility).")
    manageability = models.TextField(
        blank=True, help_text="How it is run: availability, capacity, security, continuity."
    )
    constraints = models.TextField(blank=True, help_text="Enterprise policies and resources.")
    expected_roi = models.TextField(blank=True, help_text="Expected return on investment.")
    price = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Agreed monthly price of a bespoke service.",
    )
    status = models.CharField(
        max_length=12, choices=SpecificationStatus.choices, default=SpecificationStatus.DRAFT
    )
    signed_off_by = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)

    objects = DesignSpecQuerySet.as_manager()

    class Meta:
        ordering = ["service", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["service", "version"], name="spec_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service} specification v{self.version}"
