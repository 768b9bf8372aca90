"""The order of an offering by a customer user, and its audit rows (decision 0017)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Offering, rate_field
from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.money import CURRENCY_CHOICES, MONEY_DIGITS, MONEY_PLACES
from servicebook.core.tenancy import ScopedQuerySet


class OrderStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    APPLIED = "applied", "Applied"


class OrderBasis(models.TextChoices):
    """What the customer is charged for the ordered units (the policy's charge basis)."""

    COST = "cost", "Cost of service"
    PRICE = "price", "Price"


class OrderQuerySet(ScopedQuerySet):
    customer_path = "agreement__customer"


class Order(TimeStampedModel):
    """A customer user's order of more of an offering on one of its customer's agreements.

    The amount is what the customer will be charged a month for the ordered units (its policy's
    basis: the cost of service for an internal customer, the agreement's price for an external
    one). Twelve months of it above the requester's authority limit wait for an approver of the
    same customer (``approvers``: those who may decide, for the inbox and mail); otherwise the
    order is approved at once. An approved order is applied at the next period close: a new
    version of the agreement carries the line from ``effective_from`` (decision 0017).
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="orders")
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="orders")
    quantity = models.DecimalField(
        max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))]
    )
    basis = models.CharField(max_length=5, choices=OrderBasis.choices)
    unit_rate = rate_field(help_text="What one unit is charged at a month (cost or price).")
    unit_price = rate_field(help_text="The unit price the agreement line carries.")
    monthly_amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    yearly_amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.SUBMITTED
    )
    requester = models.ForeignKey(
        "parties.Contact", on_delete=models.PROTECT, related_name="orders_requested"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approvers = models.ManyToManyField(
        "parties.Contact",
        blank=True,
        related_name="orders_to_approve",
        help_text="The customer's contacts who may approve it (role, limit and sign-in).",
    )
    decided_by = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was approved or rejected.")
    effective_from = models.DateField(
        null=True, blank=True, help_text="First day of the period the line starts (approved)."
    )
    applied_version = models.ForeignKey(
        Agreement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The agreement version that carries the ordered line.",
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0), name="order_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.reference}: {self.offering} × {self.quantity.normalize():f}"

    @property
    def reference(self) -> str:
        return f"ORD-{self.pk:05d}" if self.pk else "ORD-new"

    def clean(self) -> None:
        same = self.agreement_id and self.requester_id
        if same and self.requester.customer_id != self.agreement.customer_id:
            raise ValidationError({"requester": "the requester is not of this customer"})


class OrderEventQuerySet(ScopedQuerySet):
    customer_path = "order__agreement__customer"


class OrderEvent(EventModel):
    """One step of an order: submitted, sent for approval, approved, rejected, applied."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")

    objects = OrderEventQuerySet.as_manager()
