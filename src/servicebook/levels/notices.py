"""What service levels tells people (through notifications) when a contract earns a credit."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.money import Money
from servicebook.core.roles import Role
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with
from servicebook.parties.selectors import people_of


def credit_earned(credit, target) -> None:
    """A new service credit (R12) is told to the customer's billing people and approvers, and
    to the provider's service managers and finance; it comes off the next invoice."""
    agreement = credit.agreement
    customer = agreement.customer
    people = [
        *people_of(customer, billing=True),
        *people_of(customer, approvers=True),
        *staff_with(Role.SERVICE_MANAGER, Role.FINANCE),
    ]
    notify(
        kind=Kind.CREDIT,
        recipients=people,
        message=Message(
            f"Service credit on {agreement.reference} for {credit.period}: "
            f"{Money(credit.amount, credit.currency)}",
            f"The target “{target}” attained {credit.attainment_percent}%: "
            f"{credit.credit_percent}% of the monthly fee is credited on the next invoice.",
            reverse("levels:agreement", args=[agreement.pk]),
        ),
    )
