"""What waits for a user in demand management (``ports.work_items``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.roles import Role, roles_of
from servicebook.demand.models import DemandRequest, DemandStatus
from servicebook.notifications.kinds import Kind
from servicebook.notifications.work import since
from servicebook.ports import WorkItem


def work_for(user) -> list[WorkItem]:
    """Provider: requests to assess (service managers) and held requests to justify (senior
    managers). A customer's requester: their own requests held for justification."""
    roles = roles_of(user)
    rows = DemandRequest.objects.none()
    wording = {}
    if user.customer_id is None:
        statuses = []
        if roles & {Role.SERVICE_MANAGER, Role.PROVIDER_ADMIN}:
            statuses += [DemandStatus.SUBMITTED, DemandStatus.ASSESSMENT]
        if roles & {Role.SENIOR_MANAGER, Role.PROVIDER_ADMIN}:
            statuses.append(DemandStatus.HELD)
        rows = DemandRequest.objects.filter(status__in=statuses)
        wording = {
            DemandStatus.SUBMITTED: "Assess",
            DemandStatus.ASSESSMENT: "Finish assessing",
            DemandStatus.HELD: "Justify or reject",
        }
    elif getattr(user, "contact", None) is not None:
        rows = DemandRequest.objects.filter(
            customer_id=user.customer_id, requester=user.contact, status=DemandStatus.HELD
        )
        wording = {DemandStatus.HELD: "Held for justification:"}
    return [
        WorkItem(
            Kind.APPROVAL,
            f"{wording[demand.status]} demand {demand.reference}: {demand.title}",
            reverse("demand:detail", args=[demand.pk]),
            since(demand.updated_at),
            demand.customer.name,
        )
        for demand in rows.select_related("customer")
    ]
