"""What service levels tells people (through notifications) when a contract earns a credit."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.money import Money
from servicebook.core.roles import Role
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with, told_links
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


def tell_targets_at_risk(*, today) -> int:
    """Tell the service managers, once per target and month, about each target measured below
    its level so far this month (run daily: ``servicebook notifications daily``)."""
    from servicebook.levels.models import Attainment

    period = f"{today:%Y-%m}"
    told = told_links(Kind.TARGET_AT_RISK)
    managers = list(staff_with(Role.SERVICE_MANAGER))
    count = 0
    rows = Attainment.objects.filter(period=period, met=False).select_related(
        "agreement__customer", "target"
    )
    for row in rows.order_by("agreement__reference", "target_id"):
        link = f"{reverse('levels:agreement', args=[row.agreement_id])}#target-{row.target_id}"
        link = f"{link}-{period}"
        if link in told:
            continue
        notify(
            kind=Kind.TARGET_AT_RISK,
            recipients=managers,
            message=Message(
                f"Target at risk on {row.agreement.reference} ({row.agreement.customer.name}) "
                f"this month: {row.target}",
                f"Measured {row.measured_percent}% so far in {period} against "
                f"{row.target_percent}%.",
                link,
            ),
        )
        count += 1
    return count
