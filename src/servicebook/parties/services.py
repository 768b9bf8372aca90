"""Every write to customers and contacts: validated, permission-checked, audited."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.models import User
from servicebook.core.roles import PROVIDER_ROLES, Role
from servicebook.core.services import (
    apply_changes,
    check_transition,
    describe_changes,
    require_role,
    save_validated,
)
from servicebook.parties.models import (
    CheckOutcome,
    Commitment,
    Contact,
    Customer,
    CustomerEvent,
    CustomerStatus,
    DueDiligence,
    DueDiligenceCheck,
    DueDiligenceStatus,
    Feedback,
    JurisdictionRule,
    Objective,
    Provider,
    WaiverReason,
)
from servicebook.policy import policy_for

CUSTOMER_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)

# Which lifecycle step may follow which (R16): nothing is ever deleted.
CUSTOMER_TRANSITIONS: dict[str, set[str]] = {
    CustomerStatus.PROSPECT: {CustomerStatus.DUE_DILIGENCE, CustomerStatus.TERMINATED},
    CustomerStatus.DUE_DILIGENCE: {CustomerStatus.ACTIVE, CustomerStatus.TERMINATED},
    CustomerStatus.ACTIVE: {CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED},
    CustomerStatus.SUSPENDED: {CustomerStatus.ACTIVE, CustomerStatus.TERMINATED},
    CustomerStatus.TERMINATED: set(),
}


@transaction.atomic
def create_customer(*, actor: User | None, provider: Provider, kind: str, **fields) -> Customer:
    require_role(actor, *CUSTOMER_EDITORS, action="Creating a customer")
    policy_for(kind)  # refuses an unknown kind with a clear message
    customer = Customer(provider=provider, kind=kind, **fields)
    if customer.status != CustomerStatus.PROSPECT and actor is not None:
        raise ValidationError({"status": "a new customer starts as a prospect"})
    save_validated(customer)
    CustomerEvent.objects.create(
        customer=customer, actor=actor, action="created", to_state=customer.status
    )
    return customer


@transaction.atomic
def update_customer(*, actor: User | None, customer: Customer, **changes) -> Customer:
    require_role(actor, *CUSTOMER_EDITORS, action="Changing a customer")
    for locked in ("kind", "provider", "status", "status_reason"):
        if locked in changes and changes[locked] != getattr(customer, locked):
            message = (
                "use the lifecycle steps to change the status"
                if locked.startswith("status")
                else "cannot be changed after creation"
            )
            raise ValidationError({locked: message})
        changes.pop(locked, None)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = apply_changes(customer, changes)
    if changed:
        save_validated(customer)
        CustomerEvent.objects.create(
            customer=customer, actor=actor, action="updated", note=describe_changes(changed)
        )
    return customer


@transaction.atomic
def change_customer_status(
    *,
    actor: User | None,
    customer: Customer,
    to_status: str,
    reason: str = "",
    note: str = "",
    effective: dt.date | None = None,
) -> Customer:
    """Move a customer along its lifecycle, recording who, when, from → to and why (R16).

    Termination ends the customer's current agreements at ``effective`` (default today);
    nothing is deleted.
    """
    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Changing a customer's status")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    from_status = customer.status
    check_transition("customer", from_status, to_status, CUSTOMER_TRANSITIONS)
    if to_status == CustomerStatus.ACTIVE and from_status == CustomerStatus.DUE_DILIGENCE:
        latest = latest_due_diligence(customer)
        if latest is None or not latest.allows_agreements:
            raise DomainError(
                "complete the due diligence, or record why it was not carried out, before "
                "the customer becomes active",
                code="due_diligence_missing",
                field="to_status",
            )
    customer.status = to_status
    customer.status_reason = (
        reason if to_status in (CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED) else ""
    )
    save_validated(customer)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="status",
        from_state=from_status,
        to_state=to_status,
        reason=customer.status_reason,
        note=note,
    )
    if to_status == CustomerStatus.TERMINATED:
        from servicebook.agreements.services import end_agreements_of

        end_agreements_of(actor=actor, customer=customer, on=effective or timezone.localdate())
    return customer


@transaction.atomic
def create_contact(*, actor: User | None, customer: Customer, **fields) -> Contact:
    require_role(actor, *CUSTOMER_EDITORS, action="Adding a contact")
    contact = Contact(customer=customer, **fields)
    save_validated(contact)
    CustomerEvent.objects.create(
        customer=customer, actor=actor, action="contact_added", note=contact.name
    )
    return contact


@transaction.atomic
def update_contact(*, actor: User | None, contact: Contact, **changes) -> Contact:
    require_role(actor, *CUSTOMER_EDITORS, action="Changing a contact")
    if "customer" in changes and changes.pop("customer") != contact.customer:
        raise ValidationError({"customer": "a contact cannot move to another customer"})
    changed = apply_changes(contact, changes)
    if changed:
        save_validated(contact)
        CustomerEvent.objects.create(
            customer=contact.customer,
            actor=actor,
            action="contact_updated",
            note=f"{contact.name}: {describe_changes(changed)}",
        )
    return contact


@transaction.atomic
def create_customer_user(
    *,
    actor: User | None,
    customer: Customer,
    username: str,
    password: str,
    contact: Contact | None = None,
    **fields,
) -> User:
    """A sign-in for a customer's person: in the role its kind's policy names, scoped to it,
    linked to the person's contact record when given (so approvals are theirs)."""
    require_role(actor, Role.PROVIDER_ADMIN, action="Creating a customer user")
    user = User(username=username, customer=customer, **fields)
    user.set_password(password)
    save_validated(user, exclude=["password"])
    user.groups.add(Group.objects.get(name=customer.policy.user_role))
    if contact is not None:
        if contact.customer_id != customer.pk:
            raise ValidationError({"contact": "a contact of the same customer"})
        contact.user = user
        save_validated(contact)
    return user


@transaction.atomic
def create_staff_user(
    *, actor: User | None, username: str, password: str, roles: list[str], **fields
) -> User:
    require_role(actor, Role.PROVIDER_ADMIN, action="Creating a staff user")
    unknown = set(roles) - {role.value for role in PROVIDER_ROLES}
    if unknown:
        raise ValidationError({"roles": f"not a provider role: {', '.join(sorted(unknown))}"})
    user = User(username=username, **fields)
    user.set_password(password)
    save_validated(user, exclude=["password"])
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def require_good_standing(customer: Customer, *, action: str) -> None:
    """R16: a suspended or terminated customer gets no new requests, changes or agreements."""
    if customer.status in (CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED):
        reason = (
            f" ({customer.get_status_reason_display().lower()})" if customer.status_reason else ""
        )
        raise DomainError(
            f"{customer.name} is {customer.status}{reason}: {action} is refused",
            code="customer_not_in_good_standing",
            field="customer",
        )


# --- due diligence (R17) ------------------------------------------------------------------------


def latest_due_diligence(customer: Customer) -> DueDiligence | None:
    return customer.due_diligences.order_by("-created_at", "-pk").first()


@transaction.atomic
def start_due_diligence(*, actor: User | None, customer: Customer) -> DueDiligence:
    """Open a due diligence with the checks the customer's policy requires."""
    require_role(actor, *CUSTOMER_EDITORS, action="Starting a due diligence")
    if customer.due_diligences.filter(status=DueDiligenceStatus.IN_PROGRESS).exists():
        raise DomainError("a due diligence is already in progress", code="dd_in_progress")
    due_diligence = DueDiligence.objects.create(customer=customer)
    DueDiligenceCheck.objects.bulk_create(
        DueDiligenceCheck(due_diligence=due_diligence, check_type=check)
        for check in customer.policy.due_diligence_checks
    )
    CustomerEvent.objects.create(
        customer=customer, actor=actor, action="due_diligence_started", to_state="in_progress"
    )
    if customer.status == CustomerStatus.PROSPECT:
        change_customer_status(
            actor=actor, customer=customer, to_status=CustomerStatus.DUE_DILIGENCE
        )
    return due_diligence


@transaction.atomic
def record_check(
    *, actor: User | None, check: DueDiligenceCheck, outcome: str, evidence: str
) -> DueDiligenceCheck:
    """Record one check as passed or failed, with the evidence it rests on."""
    require_role(actor, *CUSTOMER_EDITORS, action="Recording a due diligence check")
    if check.due_diligence.status != DueDiligenceStatus.IN_PROGRESS:
        raise DomainError("this due diligence is concluded", code="dd_concluded")
    if outcome not in (CheckOutcome.PASSED, CheckOutcome.FAILED):
        raise ValidationError({"outcome": "passed or failed"})
    if not evidence.strip():
        raise ValidationError({"evidence": "say what the outcome rests on"})
    check.outcome, check.evidence = outcome, evidence.strip()
    check.checked_at, check.checked_by = timezone.now(), actor
    save_validated(check)
    CustomerEvent.objects.create(
        customer=check.due_diligence.customer,
        actor=actor,
        action="due_diligence_check",
        to_state=outcome,
        note=f"{check.get_check_type_display()}: {check.evidence}",
    )
    return check


@transaction.atomic
def conclude_due_diligence(*, actor: User | None, due_diligence: DueDiligence) -> DueDiligence:
    """Completed when every check passed, failed when any failed; pending checks refuse."""
    require_role(actor, *CUSTOMER_EDITORS, action="Concluding a due diligence")
    due_diligence = DueDiligence.objects.select_for_update().get(pk=due_diligence.pk)
    if due_diligence.status != DueDiligenceStatus.IN_PROGRESS:
        raise DomainError("this due diligence is already concluded", code="dd_concluded")
    outcomes = list(due_diligence.checks.values_list("check_type", "outcome"))
    pending = [check for check, outcome in outcomes if outcome == CheckOutcome.PENDING]
    if pending:
        raise DomainError(
            f"checks still pending: {', '.join(pending)}", code="dd_pending", field="checks"
        )
    failed = any(outcome == CheckOutcome.FAILED for _, outcome in outcomes)
    due_diligence.status = DueDiligenceStatus.FAILED if failed else DueDiligenceStatus.COMPLETED
    due_diligence.concluded_at, due_diligence.concluded_by = timezone.now(), actor
    save_validated(due_diligence)
    CustomerEvent.objects.create(
        customer=due_diligence.customer,
        actor=actor,
        action="due_diligence_concluded",
        from_state="in_progress",
        to_state=due_diligence.status,
    )
    return due_diligence


@transaction.atomic
def waive_due_diligence(
    *, actor: User | None, customer: Customer, reason: str, explanation: str
) -> DueDiligence:
    """Record that due diligence was NOT carried out, and why (R17): the agreement shows it."""
    require_role(actor, *CUSTOMER_EDITORS, action="Waiving due diligence")
    if reason not in WaiverReason.values:
        raise ValidationError({"reason": f"one of {', '.join(WaiverReason.values)}"})
    if not explanation.strip():
        raise ValidationError({"explanation": "explain why due diligence was not carried out"})
    due_diligence = customer.due_diligences.filter(status=DueDiligenceStatus.IN_PROGRESS).first()
    due_diligence = due_diligence or DueDiligence(customer=customer)
    due_diligence.status = DueDiligenceStatus.WAIVED
    due_diligence.waiver_reason, due_diligence.waiver_explanation = reason, explanation.strip()
    due_diligence.concluded_at, due_diligence.concluded_by = timezone.now(), actor
    save_validated(due_diligence)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="due_diligence_waived",
        to_state="waived",
        reason=reason,
        note=explanation,
    )
    if customer.status == CustomerStatus.PROSPECT:
        change_customer_status(
            actor=actor, customer=customer, to_status=CustomerStatus.DUE_DILIGENCE
        )
    return due_diligence


# --- commitments (R19), objectives (R9), feedback (R15), jurisdiction rules (R20) ---------------


@transaction.atomic
def add_commitment(*, actor: User | None, customer: Customer, **fields) -> Commitment:
    require_role(actor, *CUSTOMER_EDITORS, action="Recording a commitment")
    commitment = Commitment(customer=customer, **fields)
    save_validated(commitment)
    CustomerEvent.objects.create(
        customer=customer, actor=actor, action="commitment", note=str(commitment)
    )
    return commitment


@transaction.atomic
def report_commitment_breach(
    *, actor: User | None, commitment: Commitment, on: dt.date, note: str
) -> Commitment:
    """Record that an internal customer broke a commitment (e.g. used an external competitor)."""
    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Reporting a breach")
    if not note.strip():
        raise ValidationError({"note": "describe the breach"})
    commitment.breached_at, commitment.breach_note = on, note.strip()
    save_validated(commitment)
    CustomerEvent.objects.create(
        customer=commitment.customer,
        actor=actor,
        action="commitment_breached",
        note=f"{commitment.get_kind_display()}: {note}",
    )
    return commitment


@transaction.atomic
def create_objective(
    *, actor: User | None, provider: Provider, customers=(), services=(), **fields
) -> Objective:
    """An organization objective, linked to the internal customers and services serving it."""
    require_role(actor, Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER, action="Adding an objective")
    objective = Objective(provider=provider, **fields)
    save_validated(objective)
    link_objective(actor=actor, objective=objective, customers=customers, services=services)
    return objective


@transaction.atomic
def link_objective(*, actor: User | None, objective: Objective, customers=(), services=()):
    require_role(actor, Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER, action="Linking an objective")
    for customer in customers:
        if not customer.policy.shares_objectives:
            raise DomainError(
                f"{customer.name} has its own objectives: record its desired outcomes on its "
                "agreement instead",
                code="objectives_not_shared",
                field="customers",
            )
    objective.customers.add(*customers)
    objective.services.add(*services)
    return objective


@transaction.atomic
def submit_feedback(
    *,
    actor: User,
    customer: Customer,
    service,
    period: str,
    score: int | None = None,
    comment: str = "",
    topic: str = Feedback.Topic.SATISFACTION,
) -> Feedback:
    """A customer user (or staff on its behalf) answers a satisfaction survey, gives design
    feedback or complains about a service it can see (R15, R10)."""
    from servicebook.catalog.models import Service

    own = actor.customer_id
    if own is not None and own != customer.pk:
        raise PermissionDenied("customer users give feedback for their own customer only")
    if own is None:
        require_role(actor, *CUSTOMER_EDITORS, action="Recording feedback for a customer")
    if not Service.objects.visible_to(actor).filter(pk=service.pk).exists():
        raise DomainError("this service is not offered to this customer", field="service")
    if (
        topic == Feedback.Topic.SATISFACTION
        and Feedback.objects.filter(
            customer=customer, service=service, period=period, respondent=actor, topic=topic
        ).exists()
    ):
        raise DomainError(
            f"you already answered the survey on {service} for {period}",
            code="already_answered",
            field="period",
        )
    feedback = Feedback(
        customer=customer,
        service=service,
        period=period,
        score=score,
        comment=comment,
        topic=topic,
        respondent=actor,
    )
    save_validated(feedback)
    return feedback


@transaction.atomic
def set_jurisdiction_rule(
    *, actor: User | None, jurisdiction: str, allowed_locations: list[str], note: str = ""
) -> JurisdictionRule:
    require_role(actor, Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER, action="Setting a rule")
    rule = JurisdictionRule.objects.filter(jurisdiction=jurisdiction).first()
    rule = rule or JurisdictionRule(jurisdiction=jurisdiction)
    rule.allowed_locations, rule.note = allowed_locations, note
    save_validated(rule)
    return rule


# --- relationship health (R14) ------------------------------------------------------------------


@transaction.atomic
def flag_in_difficulty(*, actor: User | None, customer: Customer, reason: str) -> Customer:
    """Flag the relationship as in difficulty, with why. For external customers this opens the
    detail of improvement plans to them (see ``policy.invited_into_improvement``)."""
    require_role(actor, *CUSTOMER_EDITORS, action="Flagging a relationship")
    if not reason.strip():
        raise ValidationError({"reason": "say why the relationship is in difficulty"})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.in_difficulty:
        raise DomainError("the relationship is already flagged in difficulty", code="flagged")
    customer.in_difficulty, customer.difficulty_reason = True, reason.strip()
    save_validated(customer)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="in_difficulty",
        from_state="healthy",
        to_state="in_difficulty",
        note=reason.strip(),
    )
    return customer


@transaction.atomic
def clear_in_difficulty(*, actor: User | None, customer: Customer, note: str = "") -> Customer:
    require_role(actor, *CUSTOMER_EDITORS, action="Clearing a relationship flag")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.in_difficulty:
        raise DomainError("the relationship is not flagged in difficulty", code="not_flagged")
    customer.in_difficulty, customer.difficulty_reason = False, ""
    save_validated(customer)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="in_difficulty_cleared",
        from_state="in_difficulty",
        to_state="healthy",
        note=note,
    )
    return customer


@transaction.atomic
def resolve_complaint(*, actor: User | None, complaint: Feedback, note: str = "") -> Feedback:
    require_role(actor, *CUSTOMER_EDITORS, action="Resolving a complaint")
    if complaint.topic != Feedback.Topic.COMPLAINT or complaint.resolved_at is not None:
        raise DomainError("only an open complaint can be resolved", code="not_open")
    complaint.resolved_at = timezone.now()
    save_validated(complaint)
    CustomerEvent.objects.create(
        customer=complaint.customer,
        actor=actor,
        action="complaint_resolved",
        note=f"{complaint.comment[:80]} {note}".strip(),
    )
    return complaint
