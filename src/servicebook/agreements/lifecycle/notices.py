"""What the contract's life tells people (through notifications): a notice deadline is near,
notice was given."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.core.roles import Role
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with
from servicebook.parties.selectors import people_of


def _people(agreement: Agreement) -> list:
    """The provider's service managers and the customer's approvers."""
    return [
        *staff_with(Role.SERVICE_MANAGER, Role.PROVIDER_ADMIN),
        *people_of(agreement.customer, approvers=True),
    ]


def renewal_reminder(agreement: Agreement, *, deadline: dt.date) -> int:
    """The notice deadline is near: after it the term renews (auto-renewal) or simply ends."""
    if agreement.auto_renew:
        what = (
            f"It renews automatically for {agreement.renewal_months or 12} months after "
            f"{agreement.end_date:%d %b %Y} unless notice is given by {deadline:%d %b %Y}."
        )
    else:
        what = (
            f"It ends on {agreement.end_date:%d %b %Y}; renew it, or give notice by "
            f"{deadline:%d %b %Y}."
        )
    rows = notify(
        kind=Kind.RENEWAL,
        recipients=_people(agreement),
        message=Message(
            f"Agreement {agreement.reference} with {agreement.customer.name}: notice deadline "
            f"{deadline:%d %b %Y}",
            f"{agreement.title}. {what}",
            reverse("agreements:detail", args=[agreement.pk]),
        ),
    )
    return len(rows)


def notice_given(notice) -> int:
    agreement = notice.agreement
    rows = notify(
        kind=Kind.RENEWAL,
        recipients=_people(agreement),
        message=Message(
            f"Notice given on agreement {agreement.reference}: it ends on "
            f"{notice.effective:%d %b %Y}",
            f"{notice.get_given_by_display()} gave notice on {notice.given_on:%d %b %Y}: "
            f"{notice.reason}",
            reverse("agreements:detail", args=[agreement.pk]),
        ),
    )
    return len(rows)
