"""What waits for a user in service levels (``ports.work_items``): targets at risk."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from servicebook.core.roles import Role, roles_of
from servicebook.levels.models import Attainment
from servicebook.levels.selectors import tickets_waiting_for
from servicebook.notifications.kinds import Kind
from servicebook.notifications.work import since
from servicebook.ports import WorkItem


def work_for(user) -> list[WorkItem]:
    """Portal tickets waiting for the user; for service managers, this month's targets
    measured below their level so far."""
    return _tickets(user) + _targets_at_risk(user)


def _tickets(user) -> list[WorkItem]:
    return [
        WorkItem(
            Kind.TICKET,
            f"Ticket {ticket.number} ({ticket.state}): {ticket.short_description}",
            reverse("levels:portal-ticket", args=[ticket.pk]),
            since(ticket.updated_at),
            ticket.agreement.customer.name,
        )
        for ticket in tickets_waiting_for(user)
    ]


def _targets_at_risk(user) -> list[WorkItem]:
    if user.customer_id is not None or not roles_of(user) & {
        Role.SERVICE_MANAGER,
        Role.PROVIDER_ADMIN,
    }:
        return []
    period = timezone.localdate().strftime("%Y-%m")
    at_risk = Attainment.objects.filter(period=period, met=False).select_related(
        "agreement__customer", "target"
    )
    return [
        WorkItem(
            Kind.TARGET_AT_RISK,
            f"Target at risk on {row.agreement.reference}: {row.target} "
            f"({row.measured_percent}% against {row.target_percent}%)",
            reverse("levels:agreement", args=[row.agreement_id]),
            since(row.computed_at),
            row.agreement.customer.name,
        )
        for row in at_risk
    ]
