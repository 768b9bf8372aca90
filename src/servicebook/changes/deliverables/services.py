"""Deliverables of a contract or of a change, accepted by the customer's authorized person
(R23, decision 0023)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementEvent, AgreementStatus
from servicebook.changes.deliverables.models import (
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
)
from servicebook.changes.deliverables.workflows import DELIVERABLE
from servicebook.changes.models import ChangeRequest, CustomerImpact
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.policy import policy_for

#: who records what a contract or a change delivers
DELIVERABLE_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER, Role.CHANGE_MANAGER)


@transaction.atomic
def add_deliverable(
    *,
    actor: User | None,
    agreement: Agreement,
    title: str,
    description: str = "",
    due_date: dt.date | None = None,
    change: ChangeRequest | None = None,
) -> Deliverable:
    """Record something owed under an active agreement, or under a change to it that the
    customer paid for (an external customer: its accepted price impact)."""
    require_role(actor, *DELIVERABLE_EDITORS, action="Recording a deliverable")
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError(
            f"{agreement.reference} is {agreement.get_status_display().lower()}: deliverables "
            "are recorded on an active agreement",
            code="not_active",
        )
    if change is not None:
        _check_change(agreement, change)
    deliverable = Deliverable(
        agreement=agreement,
        change=change,
        title=title.strip(),
        description=description,
        due_date=due_date,
        created_by=actor,
    )
    save_validated(deliverable)
    DELIVERABLE.record(deliverable, actor, "recorded", to_state=deliverable.status)
    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="deliverable_added",
        note=deliverable.title + (f" (change {change.reference})" if change else ""),
    )
    return deliverable


def _check_change(agreement: Agreement, change: ChangeRequest) -> None:
    impact = CustomerImpact.objects.filter(
        change=change, customer=agreement.customer, agreement__reference=agreement.reference
    ).first()  # the change may have repriced the agreement into a later version
    if impact is None:
        raise DomainError(
            f"change {change.reference} does not affect {agreement.reference}", field="change"
        )
    if policy_for(agreement.customer).price_impact_needs_acceptance and not (
        impact.has_price_impact and impact.price_accepted_at
    ):
        raise DomainError(
            f"{agreement.customer.name} has not paid for change {change.reference}: its price "
            "impact is not accepted",
            code="not_paid_for",
            field="change",
        )


def authorized_contact(user: User, deliverable: Deliverable):
    """The contact of ``user`` if they are the customer's authorized person for it (an active
    approver of the agreement's customer); else refused, saying why."""
    if user is None or user.customer_id != deliverable.agreement.customer_id:
        raise DomainPermissionDenied("only the customer accepts or rejects its deliverables")
    contact = getattr(user, "contact", None)
    if contact is None or not (contact.active and contact.is_approver):
        raise DomainPermissionDenied(
            f"{user.get_full_name() or user.username} is not the customer's authorized contact "
            "(an active approver): only that person accepts or rejects deliverables"
        )
    return contact


#: the verdicts a customer's authorized contact gives
VERDICTS = ("accept", "reject")


@transaction.atomic
def decide_deliverable(
    *, actor: User, deliverable: Deliverable, verdict: str, reason: str = ""
) -> DeliverableEvent:
    """The customer's authorized person accepts a deliverable (recorded with who and when) or
    rejects it with a reason (it stays open)."""
    contact = authorized_contact(actor, deliverable)
    deliverable = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
    if verdict not in VERDICTS:
        raise ValidationError({"verdict": f"unknown verdict {verdict!r}: accept or reject"})
    if deliverable.status == DeliverableStatus.ACCEPTED:
        raise DomainError(
            f"{deliverable.title} was accepted on {deliverable.accepted_at:%Y-%m-%d}",
            code="already_decided",
        )
    reason = reason.strip()
    if verdict == "reject" and not reason:
        raise ValidationError({"reason": "say why the deliverable is not accepted"})
    if verdict == "accept":
        deliverable.accepted_by, deliverable.accepted_at = contact, timezone.now()
        event = DELIVERABLE.move(
            deliverable,
            DeliverableStatus.ACCEPTED,
            actor=actor,
            action="accept",
            note=reason,
            contact=contact,
        )
    else:
        event = DELIVERABLE.record(deliverable, actor, "reject", note=reason, contact=contact)
    AgreementEvent.objects.create(
        agreement=deliverable.agreement,
        actor=actor,
        action=f"deliverable_{verdict}ed",
        note=f"{deliverable.title}: {contact.name}. {reason}".strip(),
    )
    return event
