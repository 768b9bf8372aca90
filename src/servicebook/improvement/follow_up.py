"""R15 into R14: a low satisfaction score or a complaint proposes an improvement item.

Improvement's part of the ``feedback_follow_up`` port: when ``policy.feedback_follow_up`` says
a piece of feedback proposes an improvement (a complaint, or a survey score at or below the
provider's ``low_satisfaction_score``), a draft item is raised for the customer and service,
with the driver the customer's policy gives feedback (``feedback_driver``), linked to the
feedback so that the feedback shows what became of it. A service manager then proposes it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse

from servicebook.core.roles import Role
from servicebook.core.services import save_validated
from servicebook.improvement.models import Improvement, ImprovementSource, ImprovementStatus
from servicebook.improvement.workflows import IMPROVEMENT
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with
from servicebook.policy import FeedbackFollowUp, policy_for


def _title(feedback) -> str:
    if feedback.topic == "complaint":
        return f"Complaint from {feedback.customer.name} on {feedback.service} ({feedback.period})"
    return (
        f"Low satisfaction from {feedback.customer.name} on {feedback.service} "
        f"({feedback.period}): {feedback.score}/5"
    )


@transaction.atomic
def propose_from_feedback(feedback) -> Improvement | None:
    """The draft improvement item ``feedback`` proposes, or None when its policy proposes none.
    Idempotent: one item per feedback."""
    customer = feedback.customer
    policy = policy_for(customer)
    answer = policy.feedback_follow_up(
        topic=feedback.topic,
        score=feedback.score,
        low_score=customer.provider.low_satisfaction_score,
    )
    if answer is not FeedbackFollowUp.IMPROVEMENT:
        return None
    existing = Improvement.objects.filter(feedback=feedback).first()
    if existing is not None:
        return existing
    said = f": “{feedback.comment}”" if feedback.comment else ""
    item = Improvement(
        title=_title(feedback)[:200],
        customer=customer,
        period=feedback.period,
        source=ImprovementSource.FEEDBACK,
        status=ImprovementStatus.DRAFT,
        driver=policy.feedback_driver,
        feedback=feedback,
        description=(
            f"{customer.name} gave {feedback.get_topic_display().lower()} on {feedback.service} "
            f"for {feedback.period}{said}. Find the cause and agree what to improve."
        ),
    )
    try:
        with transaction.atomic():
            save_validated(item)
    except IntegrityError:  # proposed concurrently
        return Improvement.objects.get(feedback=feedback)
    item.customers.add(customer)
    item.services.add(feedback.service)
    IMPROVEMENT.record(item, None, "raised", to_state=item.status, reason="feedback")
    notify(
        kind=Kind.IMPROVEMENT_ACTION,
        recipients=staff_with(Role.SERVICE_MANAGER),
        message=Message(
            item.title,
            "An improvement item was raised from the customer's feedback.",
            reverse("improvement:detail", args=[item.pk]),
        ),
    )
    return item
