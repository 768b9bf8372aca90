"""The provider, its customers (internal and external) and their contacts."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, MONEY_DIGITS, MONEY_PLACES
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.policy import KIND_CHOICES, policy_for

country_code = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 country code, e.g. FR.")


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class Sector(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    NON_PROFIT = "non_profit", "Non-profit"
    GOVERNMENT = "government", "Government"


class Provider(TimeStampedModel):
    """The organization running this Servicebook: an IT department, shared-service centre or MSP.

    Its sector and enterprise financial policy decide what internal charging aims at and what
    external pricing must achieve (R5, R6).
    """

    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=20, choices=Sector.choices, default=Sector.COMMERCIAL)
    base_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    internal_margin = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Margin on internal charges the enterprise policy allows (0.05 = 5%; default 0).",
    )
    recovery_share = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Share of internal cost recovered from customers under partial recovery.",
    )
    discount_rate = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.08"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Yearly discount rate for business cases (NPV).",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(internal_margin__gte=0) & Q(internal_margin__lte=1),
                name="provider_internal_margin_range",
            ),
            models.CheckConstraint(
                condition=Q(recovery_share__gte=0) & Q(recovery_share__lte=1),
                name="provider_recovery_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> Provider:
        """The provider of this instance (Servicebook runs one provider per database)."""
        provider = cls.objects.order_by("pk").first()
        if provider is None:
            raise cls.DoesNotExist("no provider is set up yet: run `servicebook demo` or the admin")
        return provider


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    DUE_DILIGENCE = "due_diligence", "Due diligence"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class StatusReason(models.TextChoices):
    NON_PAYMENT = "non_payment", "Refuses to pay"
    ILLEGAL_REQUEST = "illegal_request", "Requires something illegal"
    ILLEGAL_USE = "illegal_use", "Uses the service for illegal purposes"
    ENDED = "ended", "Relationship ended"


class FundingModel(models.TextChoices):
    CENTRAL_ALLOCATION = "central_allocation", "Central allocation (showback only)"
    SHOWBACK = "showback", "Showback (statement, no posting)"
    CHARGEBACK = "chargeback", "Chargeback (notional transfer)"
    PARTIAL_RECOVERY = "partial_recovery", "Partial recovery"


class CustomerQuerySet(ScopedQuerySet):
    customer_path = "pk"


class Customer(TimeStampedModel):
    """Somebody the provider serves: an internal department or an external legal entity.

    The kind decides almost every rule (see ``servicebook.policy``): funding, charging, cost
    disclosure, agreements, change authorization, improvement.
    """

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="customers")
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=40, unique=True, help_text="Short identifier, e.g. 'rnd'.")
    status = models.CharField(
        max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.PROSPECT
    )
    status_reason = models.CharField(max_length=20, choices=StatusReason.choices, blank=True)
    description = models.TextField(blank=True)
    confidential = models.BooleanField(
        default=False, help_text="Works on confidential matters (extra care in data handling)."
    )
    # Internal customers: a department of the organization.
    business_unit = models.CharField(max_length=200, blank=True)
    cost_centre = models.CharField(max_length=40, blank=True)
    funding_model = models.CharField(max_length=20, choices=FundingModel.choices, blank=True)
    budget_per_period = money_field(
        null=True, blank=True, help_text="Monthly IT budget (base currency)."
    )
    exclusivity_commitment = models.BooleanField(
        default=False, help_text="Commits not to use external competitors (R19)."
    )
    # External customers: a separate legal entity under contract.
    legal_name = models.CharField(max_length=200, blank=True)
    registration_number = models.CharField(max_length=60, blank=True)
    jurisdiction = models.CharField(max_length=2, blank=True, validators=[country_code])
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    payment_terms_days = models.PositiveIntegerField(null=True, blank=True)
    credit_limit = money_field(null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    #: What a user may set when creating a customer (forms and API share this list).
    EDITABLE_FIELDS = (
        "kind",
        "name",
        "code",
        "description",
        "confidential",
        "business_unit",
        "cost_centre",
        "funding_model",
        "budget_per_period",
        "exclusivity_commitment",
        "legal_name",
        "registration_number",
        "jurisdiction",
        "currency",
        "payment_terms_days",
        "credit_limit",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["internal", "external"]), name="customer_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(budget_per_period__isnull=True) | Q(budget_per_period__gte=0),
                name="customer_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                name="customer_credit_limit_not_negative",
            ),
            models.UniqueConstraint(fields=["provider", "name"], name="customer_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def policy(self):
        return policy_for(self)

    @property
    def billing_currency(self) -> str:
        return self.policy.billing_currency(self)

    def clean(self) -> None:
        errors = self.policy.validate_customer(self) if self.kind else {}
        if self.status in (CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED):
            if not self.status_reason:
                errors.setdefault("status_reason", []).append(
                    "a suspended or terminated customer needs a reason"
                )
        elif self.status_reason:
            errors.setdefault("status_reason", []).append(
                "only a suspended or terminated customer has a reason"
            )
        if errors:
            raise ValidationError(errors)


class CustomerEvent(EventModel):
    """One step in a customer's life (created, status changed, details changed)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="events")

    objects = ScopedQuerySet.as_manager()


class ContactQuerySet(ScopedQuerySet):
    customer_path = "customer"


class Contact(TimeStampedModel):
    """A person at a customer the provider deals with, with roles and an authority limit.

    Only an approver whose authority limit covers an agreement's yearly value may sign it (R17).
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=120, blank=True)
    is_requester = models.BooleanField(default=False, help_text="May request services.")
    is_approver = models.BooleanField(default=False, help_text="May approve and sign.")
    is_billing = models.BooleanField(default=False, help_text="Receives invoices/statements.")
    is_technical = models.BooleanField(default=False, help_text="Technical counterpart.")
    authority_limit = money_field(
        null=True, blank=True, help_text="Largest yearly value this contact may commit to."
    )
    active = models.BooleanField(default=True)

    objects = ContactQuerySet.as_manager()

    EDITABLE_FIELDS = (
        "name",
        "email",
        "phone",
        "title",
        "is_requester",
        "is_approver",
        "is_billing",
        "is_technical",
        "authority_limit",
        "active",
    )

    class Meta:
        ordering = ["customer__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(authority_limit__isnull=True) | Q(authority_limit__gte=0),
                name="contact_authority_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer})"

    @property
    def roles(self) -> list[str]:
        flags = (
            ("requester", self.is_requester),
            ("approver", self.is_approver),
            ("billing", self.is_billing),
            ("technical", self.is_technical),
        )
        return [name for name, on in flags if on]

    def clean(self) -> None:
        if self.is_approver and self.authority_limit is None:
            raise ValidationError({"authority_limit": "an approver needs an authority limit"})
