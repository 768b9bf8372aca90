"""What agreements tell people (through notifications): an agreement waits to be signed."""

from __future__ import annotations

from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify
from servicebook.parties.selectors import people_of


def to_sign(agreement: Agreement) -> None:
    """In negotiation: the customer's approvers are asked to review and sign it."""
    notify(
        kind=Kind.APPROVAL,
        recipients=people_of(agreement.customer, approvers=True),
        message=Message(
            f"Agreement {agreement.reference} awaits your review and signature",
            f"{agreement.title}: the provider put it in negotiation.",
            reverse("agreements:detail", args=[agreement.pk]),
        ),
    )
