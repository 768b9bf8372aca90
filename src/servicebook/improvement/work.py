"""What waits for a user in the improvement register (``ports.work_items``)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from servicebook.improvement.models import Action, ImprovementStatus
from servicebook.notifications.kinds import Kind
from servicebook.notifications.work import since
from servicebook.ports import WorkItem

_CLOSED = (ImprovementStatus.DONE, ImprovementStatus.VERIFIED, ImprovementStatus.DROPPED)


def work_for(user) -> list[WorkItem]:
    """The open actions the user owns (as a provider user or as a customer's contact)."""
    actions = (
        Action.objects.filter(Q(owner_user=user) | Q(owner_contact__user=user), done=False)
        .exclude(improvement__status__in=_CLOSED)
        .select_related("improvement")
    )
    return [
        WorkItem(
            Kind.IMPROVEMENT_ACTION,
            f"Action on improvement {action.improvement.title}: {action.description}",
            reverse("improvement:detail", args=[action.improvement_id]),
            since(action.due or action.created_at),
        )
        for action in actions
    ]
