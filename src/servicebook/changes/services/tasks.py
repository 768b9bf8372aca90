"""The customer's part in a change: its tasks, its contacts' training, its schedule feed."""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction

from servicebook.changes.models import (
    ChangeRequest,
    CustomerImpact,
    CustomerTask,
    ScheduleFeed,
    TaskKind,
    TrainingRecord,
)
from servicebook.changes.services.requests import CHANGE_MANAGERS, OPEN, _locked
from servicebook.changes.workflows import CHANGE_REQUEST
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.models import User
from servicebook.core.roles import is_provider_staff
from servicebook.core.services import require_role, save_validated
from servicebook.core.tenancy import customer_of
from servicebook.parties.models import Contact, Customer, CustomerEvent
from servicebook.policy import policy_for


def _impact_of(change: ChangeRequest, customer: Customer) -> CustomerImpact:
    impact = change.impacts.filter(customer=customer).first()
    if impact is None:
        raise DomainError(
            f"{customer.name} is not affected by {change.reference}",
            code="not_affected",
            field="customer",
        )
    return impact


@transaction.atomic
def add_customer_task(
    *,
    actor: User | None,
    change: ChangeRequest,
    customer: Customer,
    kind: str,
    title: str,
    description: str = "",
    script: str = "",
    due_date: dt.date | None = None,
    contact: Contact | None = None,
) -> CustomerTask:
    """A task the customer performs for the change.

    An internal customer's users add their own build, test and deployment tasks
    (``adds_change_tasks``). Otherwise only the provider adds tasks, and only scripted deployment
    steps for a named contact (who must be trained before the date, see ``schedule_change``).
    """
    policy = policy_for(customer)
    if actor is not None and not is_provider_staff(actor):
        own = customer_of(actor)
        if own is None or own.pk != customer.pk:
            raise PermissionDenied("Adding a task: only for your own organization")
        if not policy.adds_change_tasks:
            raise PermissionDenied(
                "Adding a task: your contract documents your part in changes; "
                "the provider scripts your deployment steps"
            )
    else:
        require_role(actor, *CHANGE_MANAGERS, action="Adding a customer task")
    change = _locked(change)
    CHANGE_REQUEST.require(change, OPEN, doing="get new tasks")
    _impact_of(change, customer)
    if not policy.adds_change_tasks:
        if kind != TaskKind.DEPLOYMENT:
            raise DomainError(
                f"{customer.name} takes part in deployment only, as its contract documents",
                code="task_not_allowed",
                field="kind",
            )
        if not script.strip() or contact is None:
            raise DomainError(
                f"{customer.name}'s deployment steps are scripted: give the script and the "
                "contact who performs them",
                code="script_required",
                field="script",
            )
    task = CustomerTask(
        change=change,
        customer=customer,
        kind=kind,
        title=title,
        description=description,
        script=script,
        due_date=due_date,
        contact=contact,
        created_by=actor,
    )
    save_validated(task)
    CHANGE_REQUEST.record(change, actor, "task_added", note=str(task), customer=customer)
    return task


@transaction.atomic
def complete_customer_task(*, actor: User | None, task: CustomerTask) -> CustomerTask:
    """Mark a customer task done (the customer's own users or change managers)."""
    if actor is not None and not is_provider_staff(actor):
        own = customer_of(actor)
        if own is None or own.pk != task.customer_id:
            raise PermissionDenied("Completing a task: only your own organization's tasks")
    else:
        require_role(actor, *CHANGE_MANAGERS, action="Completing a customer task")
    task = CustomerTask.objects.select_for_update().get(pk=task.pk)
    if task.done:
        raise DomainError("the task is already done", code="already_done")
    task.done = True
    save_validated(task)
    CHANGE_REQUEST.record(task.change, actor, "task_done", note=str(task), customer=task.customer)
    return task


@transaction.atomic
def record_training(
    *,
    actor: User | None,
    change: ChangeRequest,
    contact: Contact,
    completed_on: dt.date,
    topic: str = "",
) -> TrainingRecord:
    """Record that a customer contact was trained for its deployment steps of a change."""
    require_role(actor, *CHANGE_MANAGERS, action="Recording a training")
    change = _locked(change)
    _impact_of(change, contact.customer)
    record = TrainingRecord(
        change=change, contact=contact, completed_on=completed_on, topic=topic, recorded_by=actor
    )
    save_validated(record)
    CHANGE_REQUEST.record(
        change,
        actor,
        "training_recorded",
        note=f"{contact.name} on {completed_on:%Y-%m-%d}",
        customer=contact.customer,
    )
    return record


# --- the schedule feed --------------------------------------------------------------------------


@transaction.atomic
def rotate_feed(*, actor: User | None, customer: Customer) -> ScheduleFeed:
    """Create or replace a customer's secret feed URL (the old URL stops working at once)."""
    if actor is not None and not is_provider_staff(actor):
        own = customer_of(actor)
        if own is None or own.pk != customer.pk:
            raise PermissionDenied("Rotating a feed: only your own organization's")
    else:
        require_role(actor, *CHANGE_MANAGERS, action="Rotating a schedule feed")
    feed = ScheduleFeed.objects.select_for_update().filter(customer=customer).first()
    created = feed is None
    feed = feed or ScheduleFeed(customer=customer)
    feed.token = secrets.token_urlsafe(32)
    feed.rotated_by = actor
    save_validated(feed)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="change_feed_created" if created else "change_feed_rotated",
    )
    return feed
