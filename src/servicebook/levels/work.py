"""What waits for a user in service levels (``ports.work_items``): targets at risk."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from servicebook.core.roles import Role, roles_of
from servicebook.levels.models import Attainment, Ticket
from servicebook.levels.selectors import tickets_waiting_for
from servicebook.notifications.kinds import Kind
from servicebook.notifications.work import since
from servicebook.ports import WorkItem


def work_for(user) -> list[WorkItem]:
    """Portal tickets waiting for the user; for service managers, this month's targets
    measured below their level so far."""
    return _tickets(user) + _organization_tickets(user) + _targets_at_risk(user)


def _organization_tickets(user) -> list[WorkItem]:
    """For a customer's approver: the organization's open portal tickets others raised, to
    follow (the approver answers for what the organization asks of the provider)."""
    contact = getattr(user, "contact", None) if user.customer_id else None
    if contact is None or not (contact.is_approver and contact.active):
        return []
    tickets = (
        Ticket.objects.visible_to(user)
        .filter(channel="portal", resolved_at=None)
        .exclude(raised_by=user)
        .exclude(state__in=["Awaiting User Info", "Resolved"])  # those are under _tickets
        .select_related("agreement__customer", "raised_by")
    )
    return [
        WorkItem(
            Kind.TICKET,
            f"Follow ticket {ticket.number} ({ticket.state}), raised by "
            f"{ticket.caller or 'your organization'}: {ticket.short_description}",
            reverse("levels:portal-ticket", args=[ticket.pk]),
            since(ticket.opened_at),
            ticket.agreement.customer.name,
        )
        for ticket in tickets
    ]


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
