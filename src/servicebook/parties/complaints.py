"""Answering a complaint (R15, R21): the provider's first answer and when it was given.

The time from a complaint to its first answer is one of the figures the customer-service parity
report compares between internal and external customers (R21); resolving a complaint that was
never answered counts as its first answer (``services.resolve_complaint``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.services import require_role, save_validated
from servicebook.parties.models import CustomerEvent, Feedback
from servicebook.parties.services import CUSTOMER_EDITORS


@transaction.atomic
def answer_complaint(*, actor: User | None, complaint: Feedback, answer: str) -> Feedback:
    """Record the provider's first answer to a complaint (once; later words go elsewhere)."""
    require_role(actor, *CUSTOMER_EDITORS, action="Answering a complaint")
    complaint = Feedback.objects.select_for_update().get(pk=complaint.pk)
    if complaint.topic != Feedback.Topic.COMPLAINT:
        raise DomainError("only a complaint is answered", code="not_a_complaint")
    if complaint.answered_at is not None:
        raise DomainError(
            f"this complaint was already answered on {complaint.answered_at:%Y-%m-%d}",
            code="already_answered",
        )
    if not answer.strip():
        raise ValidationError({"answer": "write the answer given to the customer"})
    complaint.answer, complaint.answered_at = answer.strip(), timezone.now()
    save_validated(complaint)
    CustomerEvent.objects.create(
        customer=complaint.customer,
        actor=actor,
        action="complaint_answered",
        note=f"{complaint.comment[:80]}: {complaint.answer[:120]}",
    )
    return complaint
