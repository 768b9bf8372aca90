"""What parties tells people (through notifications) when a customer's standing changes."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.roles import Role
from servicebook.notifications import services as notifications
from servicebook.notifications.kinds import Kind
from servicebook.parties.models import Customer
from servicebook.parties.selectors import people_of


def suspended(customer: Customer) -> None:
    """A suspension is told to the customer's people and the provider's service managers."""
    reason = customer.get_status_reason_display() if customer.status_reason else "no reason given"
    message = notifications.Message(
        f"{customer.name} is suspended",
        f"Reason: {reason}. Services continue only as the agreement allows until the "
        "suspension is lifted.",
        reverse("parties:detail", args=[customer.pk]),
    )
    staff = notifications.staff_with(Role.SERVICE_MANAGER, Role.PROVIDER_ADMIN)
    notifications.notify(
        kind=Kind.SUSPENSION, recipients=[*people_of(customer), *staff], message=message
    )
