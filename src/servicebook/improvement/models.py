"""The improvement register (minimal): improvement items and their history (R13, R14)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from servicebook.core.models import EventModel, TimeStampedModel
from servicebook.core.tenancy import ScopedQuerySet


class ImprovementSource(models.TextChoices):
    SERVICE_LEVEL_BREACH = "service_level_breach", "Service level breach"
    FEEDBACK = "feedback", "Customer feedback"
    COST_REVIEW = "cost_review", "Cost review"
    COMPETITIVE_REVIEW = "competitive_review", "Competitive review"
    CUSTOMER_REQUEST = "customer_request", "Customer request"


class ImprovementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    VERIFIED = "verified", "Verified"
    DROPPED = "dropped", "Dropped"


class Improvement(TimeStampedModel):
    """An improvement item of the register: something to make better for a customer.

    Items raised automatically (e.g. by a missed target of an internal service level agreement,
    R13) start as drafts; a service manager proposes, approves and follows them through
    proposed → approved → in progress → done → verified, or drops them. A breach produces one
    item per target and month, however many tickets breached.
    """

    title = models.CharField(max_length=200)
    customer = models.ForeignKey(
        "parties.Customer", on_delete=models.PROTECT, related_name="improvements"
    )
    agreement = models.ForeignKey(
        "agreements.Agreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvements",
    )
    target = models.ForeignKey(
        "agreements.ServiceLevelTarget",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="improvements",
    )
    period = models.CharField(max_length=7, blank=True)
    source = models.CharField(max_length=30, choices=ImprovementSource.choices)
    status = models.CharField(
        max_length=12, choices=ImprovementStatus.choices, default=ImprovementStatus.PROPOSED
    )
    description = models.TextField(blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "period"],
                condition=Q(source="service_level_breach"),
                name="improvement_once_per_breach",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if (
            self.agreement_id
            and self.customer_id
            and self.agreement.customer_id != self.customer_id
        ):
            raise ValidationError({"agreement": "belongs to another customer"})
        if self.source == ImprovementSource.SERVICE_LEVEL_BREACH and not (
            self.target_id and self.period
        ):
            raise ValidationError({"target": "a breach item names its target and period"})


class ImprovementEventQuerySet(ScopedQuerySet):
    customer_path = "improvement__customer"


class ImprovementEvent(EventModel):
    """One step in an improvement item's life (raised, proposed, approved, …)."""

    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="events")

    objects = ImprovementEventQuerySet.as_manager()
