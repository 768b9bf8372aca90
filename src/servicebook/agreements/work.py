"""What waits for a user in agreements (``ports.work_items``): agreements to sign."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.agreements.orders.selectors import orders_awaiting_approval
from servicebook.catalog.models import Service
from servicebook.core.periods import next_period, period_dates, period_of, previous_period
from servicebook.core.roles import Role, roles_of
from servicebook.notifications.kinds import Kind
from servicebook.notifications.work import since
from servicebook.parties.models import Feedback
from servicebook.ports import WorkItem


def work_for(user) -> list[WorkItem]:
    """Agreements to sign and orders to approve."""
    return _to_sign(user) + _orders(user) + _surveys(user)


def _surveys(user) -> list[WorkItem]:
    """For a customer's people: last month's satisfaction survey of each service on its active
    agreements, until somebody of the customer answers it (R15)."""
    if user.customer_id is None:
        return []
    period = previous_period(period_of(timezone.localdate()))
    services = (
        Service.objects.filter(
            offerings__agreement_lines__agreement__customer_id=user.customer_id,
            offerings__agreement_lines__agreement__status=AgreementStatus.ACTIVE,
        )
        .exclude(
            feedback__customer_id=user.customer_id,
            feedback__period=period,
            feedback__topic=Feedback.Topic.SATISFACTION,
        )
        .distinct()
        .order_by("name")
    )
    link = reverse("parties:feedback", args=[user.customer_id])
    start = since(period_dates(next_period(period))[0])
    return [
        WorkItem(
            Kind.SURVEY,
            f"How satisfied were you with {service.name} in {period}?",
            f"{link}?{urlencode({'service': service.pk, 'period': period})}",
            start,
        )
        for service in services
    ]


def _orders(user) -> list[WorkItem]:
    return [
        WorkItem(
            Kind.ORDER,
            f"Approve order {order.reference}: {order.quantity.normalize():f} × "
            f"{order.offering.name} ({order.requester.name})",
            reverse("agreements:order", args=[order.pk]),
            since(order.created_at),
            order.agreement.customer.name,
        )
        for order in orders_awaiting_approval(user).select_related("agreement__customer")
    ]


def _to_sign(user) -> list[WorkItem]:
    """Agreements in negotiation: for service managers, and for a customer's approvers."""
    rows = Agreement.objects.filter(status=AgreementStatus.NEGOTIATION)
    if user.customer_id is None:
        if not roles_of(user) & {Role.SERVICE_MANAGER, Role.PROVIDER_ADMIN}:
            return []
    else:
        contact = getattr(user, "contact", None)
        if contact is None or not (contact.is_approver and contact.active):
            return []
        rows = rows.filter(customer_id=user.customer_id)
    return [
        WorkItem(
            Kind.APPROVAL,
            f"Sign off agreement {agreement.reference}: {agreement.title}",
            reverse("agreements:detail", args=[agreement.pk]),
            since(agreement.updated_at),
            agreement.customer.name,
        )
        for agreement in rows.select_related("customer")
    ]
