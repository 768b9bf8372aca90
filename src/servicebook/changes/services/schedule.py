"""The change window and the schedule: notice periods in the customers' business calendars,
approvals reopened by a new window, then scheduled → implemented (accepted prices applied to the
agreements) → reviewed."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook.agreements import services as agreements_services
from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.changes.models import (
    Authorization,
    ChangeRequest,
    ChangeStatus,
    ChangeType,
    CustomerImpact,
    Decision,
    TaskKind,
)
from servicebook.changes.services.approvals import _any_rejection, missing_approvals
from servicebook.changes.services.requests import CHANGE_MANAGERS, EDITABLE, OPEN, _locked
from servicebook.changes.workflows import CHANGE_REQUEST
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.models import User
from servicebook.core.roles import is_provider_staff
from servicebook.core.services import apply_changes, require_role, save_validated
from servicebook.core.tenancy import customer_of
from servicebook.policy import policy_for


def window_refusal(actor: User | None, change: ChangeRequest) -> DomainError | None:
    """Why ``actor`` may not set this change's window now, or None (the one rule that both
    ``set_schedule`` and the pages that offer the form follow)."""
    if actor is not None and not is_provider_staff(actor):
        customer = customer_of(actor)
        if customer is None or not change.impacts.filter(customer=customer).exists():
            return PermissionDenied("Scheduling: this change does not affect your organization")
        if not policy_for(customer).co_owns_deployment_schedule:
            return PermissionDenied(
                "Scheduling: the provider sets the deployment schedule; "
                "your contract documents the notice you get"
            )
        allowed = EDITABLE | {ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED}
    else:
        try:
            require_role(actor, *CHANGE_MANAGERS, action="Scheduling a change")
        except PermissionDenied as error:
            return error
        allowed = OPEN
    return CHANGE_REQUEST.state_refusal(change, allowed, doing="be rescheduled")


def may_set_window(user, change: ChangeRequest) -> bool:
    """Whether the user may set the change window now (pages offer the form only then)."""
    return window_refusal(user, change) is None


def earliest_after_notice(impact: CustomerImpact, since: dt.datetime) -> dt.datetime:
    """The earliest start ``impact.notice_days`` working days after ``since``, counted in the
    business calendar of the customer's agreement."""
    return impact.agreement.add_working_days(since, impact.notice_days)


@transaction.atomic
def set_schedule(
    *,
    actor: User | None,
    change: ChangeRequest,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    deployment_procedure: str | None = None,
    note: str = "",
) -> ChangeRequest:
    """Set the change window and deployment procedure.

    Change managers do; so do the users of an affected customer whose policy makes it co-own the
    deployment schedule (internal customers). Once scheduled, a new window is set by IT only.

    Once the customers have been asked (awaiting approval and after), a new window is a new
    proposal to every other affected customer: it must respect each one's notice period under
    its contract (counted in working days of the agreement's business calendar), restarts that
    notice, and reopens each approval already given (an approved change awaits them again).
    """
    change = _locked(change)
    refusal = window_refusal(actor, change)
    if refusal is not None:
        raise refusal
    customer = customer_of(actor) if actor is not None and not is_provider_staff(actor) else None
    if planned_end <= planned_start:
        raise ValidationError({"planned_end": "the change window must end after it starts"})
    updates = {"planned_start": planned_start, "planned_end": planned_end}
    if deployment_procedure is not None:
        updates["deployment_procedure"] = deployment_procedure
    before = change.planned_start, change.planned_end
    changed = apply_changes(change, updates)
    if not changed:
        return change
    moved = (change.planned_start, change.planned_end) != before
    window = f"{planned_start:%Y-%m-%d %H:%M} – {planned_end:%Y-%m-%d %H:%M} UTC"
    others = _asked_again(change, customer, planned_start) if moved else []
    reopened = _reopen_for_new_window(change, actor, others, window) if others else 0
    revert = (
        reopened
        and change.change_type != ChangeType.EMERGENCY
        and change.status in (ChangeStatus.APPROVED, ChangeStatus.SCHEDULED)
    )
    if change.status == ChangeStatus.SCHEDULED and not revert:
        _check_ready_to_schedule(change)
    save_validated(change)
    CHANGE_REQUEST.record(
        change,
        actor,
        "window_set",
        from_state=f"{before[0]:%Y-%m-%d %H:%M}" if before[0] else "",
        to_state=f"{planned_start:%Y-%m-%d %H:%M}",
        note=f"{window}. {note}".strip(),
    )
    if revert:
        CHANGE_REQUEST.move(
            change,
            ChangeStatus.AWAITING_APPROVAL,
            actor=actor,
            note="the window moved: the affected customers' approvals are asked again",
        )
    return change


def _asked_again(change, customer, planned_start: dt.datetime) -> list[CustomerImpact]:
    """The other affected customers a moved window is a new proposal to, once they have been
    asked; refused while it starts before the end of one's notice period under its contract."""
    if change.status in EDITABLE:
        return []
    others = [
        impact
        for impact in change.impacts.select_related("customer", "agreement")
        if customer is None or impact.customer_id != customer.pk
    ]
    now = timezone.now()
    too_soon = []
    for impact in others:
        if impact.notice_days:
            earliest = earliest_after_notice(impact, now)
            if planned_start < earliest:
                too_soon.append(
                    f"{impact.customer.name} must get {impact.notice_days} working days' "
                    f"notice under its contract: start on or after "
                    f"{earliest:%Y-%m-%d %H:%M} UTC"
                )
    if too_soon:
        raise DomainError(
            "cannot move the window: " + "; ".join(too_soon),
            code="notice_period",
            field="planned_start",
        )
    return others


def _reopen_for_new_window(change, actor, impacts, window: str) -> int:
    """Restart notice and reopen given approvals of ``impacts`` for a new window."""
    now = timezone.now()
    reopened = 0
    for impact in impacts:
        if impact.notice_days or impact.authorization == Authorization.NOTIFICATION:
            impact.notified_at = now
            save_validated(impact)
            CHANGE_REQUEST.record(
                change,
                actor,
                "notified",
                note=f"new window {window}: {impact.notice_days} working days' notice",
                customer=impact.customer,
            )
        if impact.needs_decision and impact.decision == Decision.APPROVED:
            given = change.approvals.filter(customer=impact.customer).select_related("contact")
            who = ", ".join(f"{a.contact.name} on {a.at:%Y-%m-%d}" for a in given)
            given.delete()
            impact.decision = Decision.PENDING
            save_validated(impact)
            CHANGE_REQUEST.record(
                change,
                actor,
                "approval_reopened",
                from_state=Decision.APPROVED,
                to_state=Decision.PENDING,
                note=f"approved by {who} for the previous window; the new window {window} "
                "needs a new decision",
                customer=impact.customer,
            )
            reopened += 1
    return reopened


def _related(change: ChangeRequest, name: str, join: str) -> list:
    """The change's ``name`` rows: prefetched by a list (``selectors.changes_for``), else read
    here with ``join``."""
    if name in getattr(change, "_prefetched_objects_cache", {}):
        return list(getattr(change, name).all())
    return list(getattr(change, name).select_related(join))


def schedule_blockers(change: ChangeRequest) -> list[tuple[str, str]]:
    """(code, reason) pairs that keep a change from being scheduled."""
    blockers = []
    if not (change.planned_start and change.planned_end):
        return [("no_window", "set the change window first")]
    start_day = change.planned_start.date()
    for impact in _related(change, "impacts", "customer"):
        policy = policy_for(impact.customer)
        name = impact.customer.name
        needs_acceptance = policy.price_impact_needs_acceptance and impact.has_price_impact
        if needs_acceptance and not impact.price_accepted_at:
            blockers.append(("price_not_accepted", f"{name} has not accepted the new price yet"))
        if impact.notice_days and impact.notified_at:
            earliest = earliest_after_notice(impact, impact.notified_at)
            if change.planned_start < earliest:
                blockers.append(
                    (
                        "notice_period",
                        f"{name} must get {impact.notice_days} working days' notice: "
                        f"start on or after {earliest:%Y-%m-%d %H:%M} UTC",
                    )
                )
        if policy.deployment_needs_training:
            trained = {
                r.contact_id: r.completed_on
                for r in _related(change, "trainings", "contact")
                if r.contact.customer_id == impact.customer_id
            }
            deployment = [
                task
                for task in _related(change, "tasks", "contact")
                if task.customer_id == impact.customer_id and task.kind == TaskKind.DEPLOYMENT
            ]
            for task in deployment:
                when = trained.get(task.contact_id)
                if when is None or when > start_day:
                    who = task.contact.name if task.contact_id else "the customer contact"
                    blockers.append(
                        (
                            "training_missing",
                            f"{who} ({name}) has no recorded training for "
                            f"“{task.title}” on or before {start_day:%Y-%m-%d}",
                        )
                    )
    return blockers


def _check_ready_to_schedule(change: ChangeRequest) -> None:
    blockers = schedule_blockers(change)
    if blockers:
        code, _ = blockers[0]
        raise DomainError(
            "cannot schedule: " + "; ".join(reason for _, reason in blockers),
            code=code,
            field="planned_start",
        )


@transaction.atomic
def schedule_change(*, actor: User | None, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """approved → scheduled (an emergency change may be scheduled before its approvals).

    Refused while a price impact is not accepted, an external customer's notice period is not
    respected, or a contact who performs a scripted deployment step has no training on record by
    the date.
    """
    require_role(actor, *CHANGE_MANAGERS, action="Scheduling a change")
    change = _locked(change)
    CHANGE_REQUEST.check(change, ChangeStatus.SCHEDULED)
    _check_ready_to_schedule(change)
    early = change.status == ChangeStatus.AWAITING_APPROVAL
    pending = ", ".join(missing_approvals(change))
    CHANGE_REQUEST.move(
        change,
        ChangeStatus.SCHEDULED,
        actor=actor,
        note=(f"emergency: approvals after the fact ({pending}). " if early else "") + note,
    )
    return change


@transaction.atomic
def implement_change(*, actor: User | None, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """scheduled → implemented."""
    require_role(actor, *CHANGE_MANAGERS, action="Implementing a change")
    change = _locked(change)
    CHANGE_REQUEST.move(change, ChangeStatus.IMPLEMENTED, actor=actor, note=note)
    _apply_accepted_prices(change, actor, completed_on=timezone.localdate())
    return change


def _apply_accepted_prices(change: ChangeRequest, actor, *, completed_on: dt.date) -> None:
    """Each accepted price impact becomes a new version of the customer's agreement from the
    completion date, so the next period close bills it."""
    impacts = change.impacts.select_related("customer", "agreement").filter(
        price_accepted_at__isnull=False
    )
    covered = list(change.services.order_by("name"))
    for impact in impacts:
        if not impact.price_impact:
            continue
        agreement = Agreement.objects.filter(
            reference=impact.agreement.reference, status=AgreementStatus.ACTIVE
        ).first()
        if agreement is None:
            CHANGE_REQUEST.record(
                change,
                actor,
                "price_not_applied",
                note=f"{impact.agreement.reference} is no longer active: the accepted price "
                "impact was not applied",
                customer=impact.customer,
            )
            continue
        on_contract = set(agreement.lines.values_list("offering__service_id", flat=True).distinct())
        service = next((s for s in covered if s.pk in on_contract), covered[0])
        version = agreements_services.apply_price_change(
            actor=actor,
            agreement=agreement,
            amount=impact.price_impact,
            effective=completed_on,
            service=service,
            reason=f"{change.reference} {change.title}",
        )
        state = "in force" if version.status == AgreementStatus.ACTIVE else "drafted"
        CHANGE_REQUEST.record(
            change,
            actor,
            "price_applied",
            to_state=f"v{version.version} {state}",
            note=f"{impact.currency} {impact.price_impact} a month from {version.start_date}: "
            f"{version.reference} version {version.version} {state}",
            customer=impact.customer,
        )


@transaction.atomic
def review_change(*, actor: User | None, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """implemented → reviewed; an emergency change needs its approvals (after the fact) first."""
    require_role(actor, *CHANGE_MANAGERS, action="Reviewing a change")
    change = _locked(change)
    CHANGE_REQUEST.check(change, ChangeStatus.REVIEWED)
    missing = missing_approvals(change)
    if missing and not _any_rejection(change):
        raise DomainError(
            "record the approvals after the fact first: " + ", ".join(missing),
            code="approvals_missing",
        )
    CHANGE_REQUEST.move(change, ChangeStatus.REVIEWED, actor=actor, note=note)
    return change
