"""R10/R15: design feedback on a service proposes a revision of its design specification.

A customer's design feedback (``parties.Feedback`` with topic ``design``) becomes a new draft
version of the service's specification, copied from the latest one and linked to the feedback,
for the service's owner (else the service managers) to review. What the policy says feedback
proposes is ``policy.feedback_follow_up``; this module is catalog's part of the
``feedback_follow_up`` port.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse

from servicebook.catalog.models import DesignSpecification, Positioning
from servicebook.core.roles import Role
from servicebook.core.services import save_validated
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with
from servicebook.parties.models import CustomerEvent
from servicebook.policy import FeedbackFollowUp, policy_for


def _proposes_revision(feedback) -> bool:
    provider = feedback.customer.provider
    answer = policy_for(feedback.customer).feedback_follow_up(
        topic=feedback.topic, score=feedback.score, low_score=provider.low_satisfaction_score
    )
    return answer is FeedbackFollowUp.DESIGN_REVISION


@transaction.atomic
def propose_revision(feedback) -> DesignSpecification | None:
    """The draft revision of the service's design that ``feedback`` proposes, or None when the
    policy proposes none. Idempotent: one revision per feedback."""
    if not _proposes_revision(feedback):
        return None
    existing = DesignSpecification.objects.filter(feedback=feedback).first()
    if existing is not None:
        return existing
    service = feedback.service
    latest = service.specifications.filter(customer__isnull=True).order_by("-version").first()
    latest = latest or service.specifications.order_by("-version").first()
    last_version = service.specifications.order_by("-version").values_list("version", flat=True)
    functionality = latest.functionality if latest else service.description or service.name
    revision = DesignSpecification(
        service=service,
        version=(last_version.first() or 0) + 1,
        positioning=Positioning.PRE_DEFINED,
        functionality=functionality,
        manageability=latest.manageability if latest else "",
        constraints=latest.constraints if latest else "",
        feedback=feedback,
    )
    try:
        with transaction.atomic():
            save_validated(revision)
    except IntegrityError:  # proposed concurrently
        return DesignSpecification.objects.get(feedback=feedback)
    CustomerEvent.objects.create(
        customer=feedback.customer,
        actor=None,
        action="design_revision_proposed",
        note=f"{revision} proposed from design feedback: {feedback.comment[:120]}",
    )
    owners = [service.owner] if service.owner_id else list(staff_with(Role.SERVICE_MANAGER))
    notify(
        kind=Kind.APPROVAL,
        recipients=owners,
        message=Message(
            f"Design feedback on {service}: review {revision}"[:200],
            f"{feedback.customer.name} wrote: {feedback.comment}",
            reverse("catalog:detail", args=[service.pk]),
        ),
    )
    return revision
