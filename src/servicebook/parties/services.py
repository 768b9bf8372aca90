"""Every write to customers and contacts: validated, permission-checked, audited."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook import ports
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.models import User
from servicebook.core.roles import PROVIDER_ROLES, Role
from servicebook.core.services import (
    apply_changes,
    describe_changes,
    require_role,
    save_validated,
)
from servicebook.parties import billing, notices, owners
from servicebook.parties.models import (
    CheckOutcome,
    Commitment,
    CommitmentBreach,
    Contact,
    Customer,
    CustomerEvent,
    CustomerStatus,
    DueDiligence,
    DueDiligenceCheck,
    DueDiligenceStatus,
    ExternalSupplier,
    Feedback,
    JurisdictionRule,
    Objective,
    Provider,
    StatusReason,
    WaiverReason,
)
from servicebook.parties.workflows import CUSTOMER
from servicebook.policy import policy_for

CUSTOMER_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)
JURISDICTION_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


@transaction.atomic
def create_customer(*, actor: User | None, provider: Provider, kind: str, **fields) -> Customer:
    require_role(actor, *CUSTOMER_EDITORS, action="Creating a customer")
    try:
        policy_for(kind)
    except ValueError as error:
        raise DomainError(f"{error}: internal or external", field="kind") from None
    owners.check_owner(fields.get("relationship_owner"))
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
    if "relationship_owner" in changes:  # its own check and its own history line
        owner = changes.pop("relationship_owner")
        customer = owners.set_relationship_owner(actor=actor, customer=customer, owner=owner)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if "currency" in changes and changes["currency"] != customer.currency:
        issued = billing.invoice_currencies(customer)
        if issued:
            raise DomainError(
                f"{customer.name} already has invoices in {', '.join(sorted(issued))}: its "
                "currency cannot change (start a new customer record for a new currency)",
                code="currency_locked",
                field="currency",
            )
    law = ports.jurisdiction_law.get()  # R20: the agreements app re-checks its agreements
    agreements = law.agreements_of(customer) if "jurisdiction" in changes else []
    before = law.snapshot(agreements)
    changed = apply_changes(customer, changes)
    if changed:
        save_validated(customer)
        CustomerEvent.objects.create(
            customer=customer, actor=actor, action="updated", note=describe_changes(changed)
        )
        if "jurisdiction" in changed:
            old, new = changed["jurisdiction"]
            law.recheck(
                actor=actor,
                agreements=law.agreements_of(customer),
                before=before,
                cause=f"{customer.name}'s jurisdiction changed from {old or 'none'} to "
                f"{new or 'none'}",
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
    today: dt.date | None = None,
) -> Customer:
    """Move a customer along its lifecycle, recording who, when, from → to and why.

    Becoming active needs a current due diligence (R17). Suspension for non-payment needs
    something overdue, and something to pay at all (R16). Termination ends the customer's
    current agreements at ``effective`` (default today); nothing is deleted.
    """
    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Changing a customer's status")
    today = today or timezone.localdate()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    CUSTOMER.check(customer, to_status)
    if to_status == CustomerStatus.ACTIVE:
        problem = due_diligence_problem(customer, today=today)
        if problem:
            raise DomainError(
                f"{customer.name} cannot become active: {problem}",
                code="due_diligence_missing",
                field="to_status",
            )
    if to_status == CustomerStatus.SUSPENDED and reason == StatusReason.NON_PAYMENT:
        require_something_overdue(customer, today=today)
    customer.status_reason = (
        reason if to_status in (CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED) else ""
    )
    CUSTOMER.move(customer, to_status, actor=actor, note=note, reason=customer.status_reason)
    if to_status == CustomerStatus.SUSPENDED:
        notices.suspended(customer)
    if to_status == CustomerStatus.TERMINATED:
        for end in ports.customer_ended:  # R16: its agreements end with it
            end(actor=actor, customer=customer, on=effective or timezone.localdate())
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


def require_something_overdue(customer: Customer, *, today: dt.date) -> None:
    """R16: "refuses to pay" needs something to pay (the policy) and something overdue."""
    if not customer.policy.pays_for_service(customer):
        funding = customer.get_funding_model_display() or customer.policy.label
        raise DomainError(
            f"{customer.name} has nothing to pay ({funding.lower()}): it cannot be suspended "
            "for non-payment",
            code="nothing_to_pay",
            field="reason",
        )
    if not billing.overdue_documents(customer, today=today):
        raise DomainError(
            f"{customer.name} has no overdue invoice or statement on {today}: suspension for "
            "non-payment needs one",
            code="nothing_overdue",
            field="reason",
        )


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


def due_diligence_problem(customer: Customer, *, today: dt.date | None = None) -> str | None:
    """Why the customer has no current due diligence to rest an agreement on, or None.

    Current means: the latest due diligence was completed (or waived, with the reason recorded)
    less than the provider's validity period ago. A failed one is never current.
    """
    today = today or timezone.localdate()
    latest = latest_due_diligence(customer)
    if latest is None or latest.status == DueDiligenceStatus.IN_PROGRESS:
        return "no completed due diligence and no recorded waiver for this customer"
    if latest.status == DueDiligenceStatus.FAILED:
        failed = ", ".join(
            check.get_check_type_display().lower()
            for check in latest.checks.filter(outcome=CheckOutcome.FAILED)
        )
        return (
            f"its due diligence failed on {timezone.localdate(latest.concluded_at)}"
            f"{f' ({failed})' if failed else ''}: a failed due diligence cannot be waived; "
            "request a new one, with a reason, and complete it"
        )
    expires = latest.expires_on(customer.provider.due_diligence_validity_months)
    if expires is not None and expires <= today:
        return (
            f"its due diligence expired on {expires} (valid "
            f"{customer.provider.due_diligence_validity_months} months): request a fresh one "
            "(R17)"
        )
    return None


def require_fresh_due_diligence(customer: Customer, *, action: str) -> None:
    """R17: a request for a new agreement is refused while the customer's due diligence has
    failed or expired (a customer still being checked may have drafts)."""
    latest = latest_due_diligence(customer)
    if latest is None or latest.status == DueDiligenceStatus.IN_PROGRESS:
        return
    problem = due_diligence_problem(customer)
    if problem:
        raise DomainError(
            f"{action} for {customer.name} is refused: {problem}",
            code="due_diligence_not_current",
            field="customer",
        )


@transaction.atomic
def start_due_diligence(
    *, actor: User | None, customer: Customer, reason: str = ""
) -> DueDiligence:
    """Open a due diligence with the checks the customer's policy requires.

    A customer that already had one (failed, expired, or to be renewed) needs a new request
    with a reason: that is what the new checks answer.
    """
    require_role(actor, *CUSTOMER_EDITORS, action="Starting a due diligence")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.due_diligences.filter(status=DueDiligenceStatus.IN_PROGRESS).exists():
        raise DomainError("a due diligence is already in progress", code="dd_in_progress")
    if customer.due_diligences.exists() and not reason.strip():
        raise ValidationError(
            {"reason": "this customer already had a due diligence: say why a new one is requested"}
        )
    due_diligence = DueDiligence.objects.create(customer=customer, request_reason=reason.strip())
    DueDiligenceCheck.objects.bulk_create(
        DueDiligenceCheck(due_diligence=due_diligence, check_type=check)
        for check in customer.policy.due_diligence_checks
    )
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="due_diligence_started",
        to_state="in_progress",
        note=reason.strip(),
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
    """Completed when every check passed, failed when any failed; pending checks refuse.

    A failed due diligence suspends an active customer (reason: failed due diligence): its
    agreements stay readable, nothing new is agreed, and it becomes active again only after a
    new due diligence is requested and completed.
    """
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
    failed = [check for check, outcome in outcomes if outcome == CheckOutcome.FAILED]
    due_diligence.status = DueDiligenceStatus.FAILED if failed else DueDiligenceStatus.COMPLETED
    due_diligence.concluded_at, due_diligence.concluded_by = timezone.now(), actor
    save_validated(due_diligence)
    customer = due_diligence.customer
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="due_diligence_concluded",
        from_state="in_progress",
        to_state=due_diligence.status,
        note=f"failed: {', '.join(failed)}" if failed else "",
    )
    if failed and customer.status == CustomerStatus.ACTIVE:
        change_customer_status(
            actor=actor,
            customer=customer,
            to_status=CustomerStatus.SUSPENDED,
            reason=StatusReason.DUE_DILIGENCE_FAILED,
            note=f"due diligence failed ({', '.join(failed)}): nothing new is agreed until a "
            "new due diligence is completed",
        )
    return due_diligence


@transaction.atomic
def waive_due_diligence(
    *, actor: User | None, customer: Customer, reason: str, explanation: str
) -> DueDiligence:
    """Record that due diligence was NOT carried out, and why: the agreement shows it.

    Only a check that was not done can be waived: never a failed check, and never after a
    failed due diligence (only a new, completed one clears a failure).
    """
    require_role(actor, *CUSTOMER_EDITORS, action="Waiving due diligence")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if reason not in WaiverReason.values:
        raise ValidationError({"reason": f"one of {', '.join(WaiverReason.values)}"})
    if not explanation.strip():
        raise ValidationError({"explanation": "explain why due diligence was not carried out"})
    concluded = customer.due_diligences.exclude(status=DueDiligenceStatus.IN_PROGRESS)
    last = concluded.order_by("-concluded_at", "-pk").first()
    if last is not None and last.status == DueDiligenceStatus.FAILED:
        raise DomainError(
            f"the due diligence of {customer.name} failed: a failed due diligence can never be "
            "waived; request a new one, with a reason, and complete its checks",
            code="dd_failed_not_waivable",
            field="reason",
        )
    due_diligence = customer.due_diligences.filter(status=DueDiligenceStatus.IN_PROGRESS).first()
    if due_diligence is not None:
        failed = due_diligence.checks.filter(outcome=CheckOutcome.FAILED)
        if failed.exists():
            names = ", ".join(check.get_check_type_display().lower() for check in failed)
            raise DomainError(
                f"a check already failed ({names}): a failed check can never be waived; "
                "conclude this due diligence",
                code="dd_failed_not_waivable",
                field="reason",
            )
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
) -> CommitmentBreach:
    """Record that an internal customer broke a commitment (e.g. used an external competitor).

    Each report adds a breach to the commitment's history; earlier ones are kept.
    """
    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Reporting a breach")
    if not note.strip():
        raise ValidationError({"note": "describe the breach"})
    return _record_breach(
        actor=actor,
        commitment=commitment,
        kind=CommitmentBreach.Kind.REPORTED,
        on=on,
        detail=note.strip(),
    )


def _record_breach(
    *, actor, commitment: Commitment, kind: str, on: dt.date, detail: str, key: str = ""
) -> CommitmentBreach:
    if on < commitment.starts or (commitment.ends is not None and on > commitment.ends):
        raise DomainError(
            f"the commitment runs {commitment.starts} – {commitment.ends or 'open'}: a breach on "
            f"{on} is outside it",
            code="breach_outside_commitment",
            field="on",
        )
    breach = CommitmentBreach(
        commitment=commitment,
        kind=kind,
        occurred_on=on,
        detail=detail,
        detection_key=key,
        recorded_by=actor,
    )
    save_validated(breach)
    CustomerEvent.objects.create(
        customer=commitment.customer,
        actor=actor,
        action="commitment_breached",
        reason=kind,
        note=f"{commitment.get_kind_display()} on {on}: {detail}",
    )
    return breach


@transaction.atomic
def resolve_commitment_breach(
    *, actor: User | None, breach: CommitmentBreach, note: str
) -> CommitmentBreach:
    """Close a breach (e.g. the external tool was dropped, funding topped up); it stays listed."""
    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Resolving a breach")
    if breach.resolved_at is not None:
        raise DomainError("this breach is already resolved", code="already_resolved")
    if not note.strip():
        raise ValidationError({"note": "say how the breach was resolved"})
    breach.resolved_at, breach.resolution_note = timezone.now(), note.strip()
    save_validated(breach)
    CustomerEvent.objects.create(
        customer=breach.commitment.customer,
        actor=actor,
        action="commitment_breach_resolved",
        note=f"{breach}: {note.strip()}",
    )
    return breach


@transaction.atomic
def detect_funding_breaches(*, actor: User | None, on: dt.date | None = None) -> list:
    """R19: a month whose consumption at cost exceeds the funding commitment in force is a
    breach of that commitment, recorded once per month (running it again adds nothing)."""
    from servicebook.parties.selectors import funding_report

    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Detecting breaches")
    on = on or timezone.localdate()
    month = on.replace(day=1)
    key = f"over_funding:{month:%Y-%m}"
    over = [
        row
        for row in funding_report(None, on=on, all_customers=True)
        if row.over and row.commitment is not None
    ]
    # the commitments whose breach of this month is recorded already: one query, not one each
    recorded = set(
        CommitmentBreach.objects.filter(
            commitment__in=[row.commitment.pk for row in over], detection_key=key
        ).values_list("commitment_id", flat=True)
    )
    found = []
    for row in over:
        if row.commitment.pk in recorded:
            continue
        found.append(
            _record_breach(
                actor=actor,
                commitment=row.commitment,
                kind=CommitmentBreach.Kind.OVER_FUNDING,
                on=max(month, row.commitment.starts),
                detail=f"consumption at cost {row.currency} {row.consumption} a month is over "
                f"the funding of {row.currency} {row.funding} by {row.currency} {row.over_by} "
                f"({month:%Y-%m})",
                key=key,
            )
        )
    return found


@transaction.atomic
def record_external_supplier(
    *,
    actor: User | None,
    customer: Customer,
    service,
    supplier: str,
    since: dt.date,
    note: str = "",
) -> ExternalSupplier:
    """Record that an internal customer uses an external supplier for what one of the
    provider's services delivers; under an exclusivity commitment in force that day, this is
    detected as a breach of it."""
    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Recording an external supplier")
    if not supplier.strip():
        raise ValidationError({"supplier": "name the supplier"})
    record = ExternalSupplier(
        customer=customer, service=service, supplier=supplier.strip(), since=since, note=note
    )
    save_validated(record)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="external_supplier",
        note=f"{record.supplier} for {service} since {since}",
    )
    if customer.policy.has_commitments:
        exclusivity = [
            commitment
            for commitment in customer.commitments.filter(kind=Commitment.Kind.EXCLUSIVITY)
            if commitment.in_force(since)
        ]
        for commitment in exclusivity:
            _record_breach(
                actor=actor,
                commitment=commitment,
                kind=CommitmentBreach.Kind.EXTERNAL_SUPPLIER,
                on=since,
                detail=f"{record.supplier} used for {service} ({note or 'no note'})",
                key=f"external_supplier:{record.pk}",
            )
    return record


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
    feedback or complains about a service it can see."""
    own = actor.customer_id
    if own is not None and own != customer.pk:
        raise PermissionDenied("customer users give feedback for their own customer only")
    if own is None:
        require_role(actor, *CUSTOMER_EDITORS, action="Recording feedback for a customer")
    if not type(service).objects.visible_to(actor).filter(pk=service.pk).exists():
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
    for follow_up in ports.feedback_follow_up.parts():  # R15: what it proposes (design, R14)
        follow_up(feedback)
    return feedback


@transaction.atomic
def set_jurisdiction_rule(
    *, actor: User | None, jurisdiction: str, allowed_locations: list[str], note: str = ""
) -> JurisdictionRule:
    require_role(actor, *JURISDICTION_EDITORS, action="Setting a rule")
    rule = JurisdictionRule.objects.filter(jurisdiction=jurisdiction).first()
    rule = rule or JurisdictionRule(jurisdiction=jurisdiction)
    law = ports.jurisdiction_law.get()
    agreements = law.agreements_in(jurisdiction)
    before = law.snapshot(agreements)
    rule.allowed_locations, rule.note = allowed_locations, note
    save_validated(rule)
    law.recheck(
        actor=actor,
        agreements=law.agreements_in(jurisdiction),
        before=before,
        cause=f"the rule for {jurisdiction} now allows {', '.join(allowed_locations) or 'nowhere'}",
    )
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
    complaint.answered_at = complaint.answered_at or complaint.resolved_at
    save_validated(complaint)
    CustomerEvent.objects.create(
        customer=complaint.customer,
        actor=actor,
        action="complaint_resolved",
        note=f"{complaint.comment[:80]} {note}".strip(),
    )
    return complaint
