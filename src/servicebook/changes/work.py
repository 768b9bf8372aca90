"""What waits for a user in the change process (``ports.work_items``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.changes.models import (
    Approval,
    Authorization,
    ChangeRequest,
    ChangeStatus,
    ChangeType,
    CustomerImpact,
    CustomerTask,
    Decision,
)
from servicebook.core.roles import Role, roles_of
from servicebook.notifications.kinds import Kind
from servicebook.notifications.work import since
from servicebook.ports import WorkItem


def _contact(user):
    return getattr(user, "contact", None) if user.customer_id else None


def work_for(user) -> list[WorkItem]:
    """Changes waiting for the user's decision, and change tasks of the user's organization."""
    items: list[WorkItem] = []
    if user.customer_id is None and roles_of(user) & {Role.CHANGE_MANAGER, Role.PROVIDER_ADMIN}:
        decided = Approval.objects.filter(customer__isnull=True).values("change_id")
        waiting = (
            ChangeRequest.objects.filter(status=ChangeStatus.AWAITING_APPROVAL)
            .exclude(change_type=ChangeType.STANDARD)
            .exclude(pk__in=decided)
        )
        for change in waiting.only("pk", "reference", "title", "updated_at"):
            items.append(
                WorkItem(
                    Kind.APPROVAL,
                    f"Approve change {change.reference}: {change.title}",
                    reverse("changes:detail", args=[change.pk]),
                    since(change.updated_at),
                )
            )
    contact = _contact(user)
    if contact is not None and contact.is_approver and contact.active:
        impacts = CustomerImpact.objects.filter(
            customer_id=user.customer_id,
            authorization__in=[Authorization.CO_AUTHORIZE, Authorization.APPROVAL],
            decision=Decision.PENDING,
            change__status=ChangeStatus.AWAITING_APPROVAL,
        ).select_related("change")
        for impact in impacts:
            change = impact.change
            items.append(
                WorkItem(
                    Kind.APPROVAL,
                    f"Decide on change {change.reference}: {change.title}",
                    reverse("changes:detail", args=[change.pk]),
                    since(change.updated_at),
                )
            )
    if user.customer_id is not None:
        mine = (None, getattr(contact, "pk", None))  # the user's own tasks and unassigned ones
        tasks = CustomerTask.objects.filter(customer_id=user.customer_id, done=False)
        for task in tasks.select_related("change"):
            if task.contact_id not in mine:
                continue
            items.append(
                WorkItem(
                    Kind.CHANGE_TASK,
                    f"{task.get_kind_display()} task for change {task.change.reference}: "
                    f"{task.title}",
                    reverse("changes:detail", args=[task.change_id]),
                    since(task.due_date or task.change.updated_at),
                )
            )
    return items
