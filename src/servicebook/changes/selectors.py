"""Reads for changes: what a user may see of a change, the schedule, the iCalendar feed."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch

from servicebook.agreements.models import ServiceLevelTarget
from servicebook.changes import ical
from servicebook.changes.models import (
    Approval,
    ChangeRequest,
    ChangeStatus,
    CustomerImpact,
    CustomerTask,
    TrainingRecord,
)
from servicebook.changes.services import missing_approvals, schedule_blockers
from servicebook.core.roles import is_provider_staff
from servicebook.core.tenancy import customer_of

#: Statuses that put a change on a customer's schedule.
ON_SCHEDULE = (
    ChangeStatus.APPROVED,
    ChangeStatus.SCHEDULED,
    ChangeStatus.IMPLEMENTED,
    ChangeStatus.REVIEWED,
)


def visible_customer_id(user) -> int | None:
    """None for provider staff (every customer), else the user's own customer id (or -1)."""
    if is_provider_staff(user):
        return None
    customer = customer_of(user)
    return customer.pk if customer else -1


def changes_for(user):
    """The changes a user may see, with what the list and detail need."""
    return (
        ChangeRequest.objects.visible_to(user)
        .prefetch_related(
            "services",
            Prefetch(
                "impacts",
                queryset=CustomerImpact.objects.select_related(
                    "customer__provider", "clause", "price_accepted_by", "agreement"
                ).prefetch_related(
                    Prefetch(
                        "agreement__targets",
                        queryset=ServiceLevelTarget.objects.select_related("calendar"),
                    )
                ),
            ),
            Prefetch("approvals", queryset=Approval.objects.select_related("contact", "actor")),
            Prefetch("trainings", queryset=TrainingRecord.objects.select_related("contact")),
            Prefetch("tasks", queryset=CustomerTask.objects.select_related("contact")),
        )
        .select_related("requested_by")
    )


def impacts_for(user, change: ChangeRequest) -> list[CustomerImpact]:
    own = visible_customer_id(user)
    return [i for i in change.impacts.all() if own is None or i.customer_id == own]


def approvals_for(user, change: ChangeRequest) -> list[Approval]:
    """The IT decision and the user's own customer's (all of them for provider staff)."""
    own = visible_customer_id(user)
    return [a for a in change.approvals.all() if own is None or a.customer_id in (None, own)]


def tasks_for(user, change: ChangeRequest) -> list[CustomerTask]:
    return list(
        CustomerTask.objects.visible_to(user)
        .filter(change=change)
        .select_related("customer", "contact")
    )


def missing_for(user, change: ChangeRequest) -> list[str]:
    """Who still has to approve, without naming other customers to a customer user."""
    missing = missing_approvals(change)
    if visible_customer_id(user) is None:
        return missing
    own = customer_of(user)
    return [name for name in missing if name in ("IT change manager", own.name)]


def blockers_for(user, change: ChangeRequest) -> list[str]:
    if change.status not in (ChangeStatus.APPROVED, ChangeStatus.AWAITING_APPROVAL):
        return []
    reasons = [reason for _, reason in schedule_blockers(change)]
    if visible_customer_id(user) is None:
        return reasons
    own = customer_of(user)
    return [r for r in reasons if own.name in r or r.startswith("set the change window")]


def schedule_for(customer, *, since: dt.datetime | None = None):
    """Changes on a customer's schedule (with a window), earliest first."""
    queryset = (
        ChangeRequest.objects.scope_for_customer(customer)
        .filter(status__in=ON_SCHEDULE, planned_start__isnull=False, planned_end__isnull=False)
        .prefetch_related(
            "services",
            Prefetch(
                "tasks",
                queryset=CustomerTask.objects.filter(customer=customer).select_related("contact"),
                to_attr="own_tasks",
            ),
        )
        .order_by("planned_start", "pk")
    )
    if since is not None:
        queryset = queryset.filter(planned_end__gte=since)
    return queryset


def feed_events(customer, *, base_url: str = "") -> list[ical.Event]:
    """A customer's change schedule as calendar events (never cost: prices are not shown)."""
    events = []
    for change in schedule_for(customer):
        services = ", ".join(s.name for s in change.services.all())
        lines = [
            f"{change.get_change_type_display()} change, {change.get_status_display().lower()}.",
            f"Services: {services}.",
        ]
        if change.risk:
            lines.append(f"Risk: {change.get_risk_display().lower()}.")
        if change.service_impact:
            lines.append(f"Service impact: {change.service_impact}")
        if change.deployment_procedure:
            lines.append(f"Deployment procedure: {change.deployment_procedure}")
        for task in change.own_tasks:
            who = f" ({task.contact.name})" if task.contact_id else ""
            lines.append(f"Your {task.get_kind_display().lower()} task{who}: {task.title}")
        events.append(
            ical.Event(
                uid=f"{change.reference.lower()}.{customer.code}@servicebook",
                start=change.planned_start,
                end=change.planned_end,
                summary=f"{change.reference} {change.title}",
                description="\n".join(lines),
                status="TENTATIVE" if change.status == ChangeStatus.APPROVED else "CONFIRMED",
                last_modified=change.updated_at,
                url=f"{base_url}/changes/{change.pk}/" if base_url else "",
                categories=("Change", change.get_change_type_display().split(" ")[0]),
            )
        )
    return events


def feed_text(customer, *, now: dt.datetime, base_url: str = "") -> str:
    return ical.build_calendar(
        name=f"{customer.name}: change schedule",
        events=feed_events(customer, base_url=base_url),
        now=now,
    )
