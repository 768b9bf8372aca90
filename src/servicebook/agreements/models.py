"""Agreements: service level agreements with internal customers, contracts with external ones."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from servicebook.catalog.models import Offering, rate_field
from servicebook.catalog.pricing import charge_amount
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, round_money
from servicebook.core.tenancy import ScopedQuerySet
from servicebook.parties.models import Customer
from servicebook.policy import policy_for


class AgreementKind(models.TextChoices):
    SLA = "sla", "Service level agreement"
    CONTRACT = "contract", "Contract"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEGOTIATION = "negotiation", "Negotiation"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


class Agreement(TimeStampedModel):
    """What the provider agreed to deliver to one customer, and at what price.

    Its kind is derived from the customer by the policy (R12): a service level agreement (not
    legally binding) for an internal customer, a legally binding contract for an external one.
    Amounts on lines are per month.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="agreements")
    reference = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=AgreementKind.choices, editable=False)
    status = models.CharField(
        max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["customer__name", "reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="agreement_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["sla", "contract"]), name="agreement_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def policy(self):
        return policy_for(self.customer)

    @property
    def legally_binding(self) -> bool:
        return self.policy.legally_binding

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.customer_id:
            expected = self.policy.agreement_kind
            if self.kind and self.kind != expected:
                errors["kind"] = f"a {self.customer.kind} customer's agreement is a {expected}"
            if self.currency and self.currency != self.customer.billing_currency:
                errors["currency"] = (
                    f"must be the customer's billing currency {self.customer.billing_currency}"
                )
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = "the end date is before the start date"
        if errors:
            raise ValidationError(errors)

    def monthly_price(self) -> Decimal:
        """The agreed price of all lines for one month."""
        return sum((line.monthly_price() for line in self.lines.all()), Decimal(0))

    def monthly_cost(self) -> Decimal | None:
        """The provider's cost of all lines for one month (None when a cost is unknown)."""
        costs = [line.monthly_cost() for line in self.lines.all()]
        if not costs or any(cost is None for cost in costs):
            return None
        return sum(costs, Decimal(0))

    def monthly_charge(self) -> Decimal | None:
        """What the customer is charged a month under its policy (cost-based or price-based)."""
        charges = [line.monthly_charge() for line in self.lines.all()]
        if not charges or any(charge is None for charge in charges):
            return None
        return sum(charges, Decimal(0))

    def yearly_value(self) -> Decimal:
        """Twelve months of the customer's charge: what a signatory commits to (R17)."""
        monthly = self.monthly_charge()
        return round_money((monthly or Decimal(0)) * 12, self.currency)


class AgreementLineQuerySet(ScopedQuerySet):
    customer_path = "agreement__customer"


class AgreementLine(models.Model):
    """One offering in an agreement: how many units a month at which agreed unit price."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="lines")
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="agreement_lines")
    quantity = models.DecimalField(
        max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    unit_price = rate_field(
        validators=[MinValueValidator(Decimal(0))],
        help_text="Agreed price per unit (per package, or per month if flat).",
    )
    description = models.CharField(max_length=200, blank=True)

    objects = AgreementLineQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_positive"),
            models.UniqueConstraint(fields=["agreement", "offering"], name="line_offering_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.offering} × {self.quantity}"

    def clean(self) -> None:
        if self.offering_id and self.agreement_id:
            policy = self.agreement.policy
            if policy.charge_basis == "price" and self.offering.currency != self.agreement.currency:
                raise ValidationError(
                    {
                        "offering": f"priced in {self.offering.currency}, "
                        f"the agreement is in {self.agreement.currency}"
                    }
                )
            if self.offering.service.offered_to not in policy.catalog_audiences:
                raise ValidationError(
                    {"offering": "this service is not offered to this kind of customer"}
                )

    def monthly_price(self) -> Decimal:
        """The agreed price of this line for one month, under the offering's charge model."""
        offering = self.offering
        tiers = [(t.lower_bound, t.unit_price) for t in offering.tiers.all()]
        amount = charge_amount(
            offering.charge_model,
            self.quantity,
            self.unit_price,
            package_size=offering.package_size,
            tiers=tiers,
        )
        return round_money(amount, self.agreement.currency)

    def monthly_cost(self) -> Decimal | None:
        """The provider's cost of this line for one month (None when the cost is unknown)."""
        cost = self.offering.standard_unit_cost
        if cost is None:
            return None
        return round_money(self.quantity * cost, self.agreement.currency)

    def monthly_charge(self) -> Decimal | None:
        """What the customer pays a month for this line under its policy (R5, R6)."""
        policy = self.agreement.policy
        if policy.charge_basis == "cost":
            rate = policy.charge_rate(
                unit_cost=self.offering.standard_unit_cost,
                unit_price=self.unit_price,
                provider=self.agreement.customer.provider,
            )
            return (
                None if rate is None else round_money(self.quantity * rate, self.agreement.currency)
            )
        return self.monthly_price()


class AgreementEvent(EventModel):
    """One step in an agreement's life (created, status changed, line added, amended)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="events")

    objects = AgreementLineQuerySet.as_manager()
