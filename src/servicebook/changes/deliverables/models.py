"""Deliverables of a contract, or of a change the customer paid for, and their acceptance by the
customer's authorized person (R23, decision 0023): "both sides know when it has been fulfilled".
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from servicebook.core.models import EventModel
from servicebook.core.tenancy import ScopedQuerySet


class DeliverableQuerySet(ScopedQuerySet):
    """A customer user sees its own agreements' deliverables only."""

    customer_path = "agreement__customer"


class DeliverableStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"


class Deliverable(models.Model):
    """Something the provider owes under an agreement (or under a change to it the customer
    paid for), open until the customer's authorized person accepts it. A rejection, with its
    reason, leaves it open."""

    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.PROTECT, related_name="deliverables"
    )
    change = models.ForeignKey(
        "changes.ChangeRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliverables",
        help_text="The change this is delivered under (empty: the contract itself).",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=DeliverableStatus.choices, default=DeliverableStatus.OPEN
    )
    accepted_by = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = DeliverableQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliverableStatus.values), name="deliverable_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="open", accepted_at__isnull=True)
                | Q(status="accepted", accepted_at__isnull=False, accepted_by__isnull=False),
                name="deliverable_acceptance_recorded",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.title.strip():
            raise ValidationError({"title": "say what is delivered"})


class DeliverableEventQuerySet(ScopedQuerySet):
    customer_path = "deliverable__agreement__customer"


class DeliverableEvent(EventModel):
    """One step of a deliverable: recorded, accepted or rejected (``action``), by whom (the
    customer's contact and their sign-in), when, and why (a rejection's reason, in ``note``)."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="events")
    contact = models.ForeignKey(
        "parties.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = DeliverableEventQuerySet.as_manager()

    @property
    def is_decision(self) -> bool:
        return self.action in ("accept", "reject")

    def get_verdict_display(self) -> str:
        return {"accept": "Accepted", "reject": "Rejected"}.get(self.action, self.action)
