"""Every write to requests for change: validated, permission-checked, audited (R11, R16, R17).

The internal-vs-external rules come from the customer's policy only:
``change_authorization`` (co_authorize | per_contract), ``adds_change_tasks``,
``co_owns_deployment_schedule``, ``price_impact_needs_acceptance``, ``deployment_needs_training``
and ``charge_basis`` (what the customer's approver commits to: the cost or the price impact).
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook.agreements import services as agreements_services
from servicebook.agreements.models import Agreement, AgreementStatus, ChangeClause
from servicebook.catalog.models import Service
from servicebook.changes.models import (
    Approval,
    Authorization,
    ChangeEvent,
    ChangeRequest,
    ChangeStatus,
    ChangeType,
    CustomerImpact,
    CustomerTask,
    Decision,
    ScheduleFeed,
    TaskKind,
    TrainingRecord,
)
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.models import User
from servicebook.core.roles import Role, is_provider_staff
from servicebook.core.services import apply_changes, describe_changes, require_role, save_validated
from servicebook.core.tenancy import customer_of
from servicebook.parties.authority import (
    acting_contact,
    require_approver,
    require_customer_in_good_standing,
)
from servicebook.parties.models import Contact, Customer, CustomerEvent, Provider
from servicebook.policy import policy_for

CHANGE_MANAGERS = (Role.PROVIDER_ADMIN, Role.CHANGE_MANAGER)
EDITABLE = {ChangeStatus.DRAFT, ChangeStatus.ASSESSMENT}
# Where a decision may be recorded; emergency changes also after the fact.
DECIDABLE = {ChangeStatus.AWAITING_APPROVAL}
AFTER_THE_FACT = {ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENTED}
OPEN = {
    ChangeStatus.DRAFT,
    ChangeStatus.ASSESSMENT,
    ChangeStatus.AWAITING_APPROVAL,
    ChangeStatus.APPROVED,
    ChangeStatus.SCHEDULED,
}
#: Which clause scopes apply to a change type, most specific first (R11, external).
CLAUSE_SCOPES = {
    ChangeType.STANDARD: ("any",),
    ChangeType.NORMAL: ("major", "any"),
    ChangeType.EMERGENCY: ("emergency", "major", "any"),
}


def _event(change, actor, action, *, from_state="", to_state="", note="", customer=None):
    ChangeEvent.objects.create(
        change=change,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        customer=customer,
    )


def _move(change: ChangeRequest, actor, to_status: str, *, note: str = "", action="status"):
    from_status = change.status
    change.status = to_status
    save_validated(change)
    _event(change, actor, action, from_state=from_status, to_state=to_status, note=note)


def _locked(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.select_for_update().get(pk=change.pk)


def _require_status(change: ChangeRequest, allowed: set[str], *, doing: str) -> None:
    if change.status not in allowed:
        raise DomainError(
            f"{change.reference} is {change.get_status_display().lower()}: cannot {doing}",
            code="invalid_transition",
            field="status",
        )


def _next_reference() -> str:
    year = timezone.now().year
    prefix = f"RFC-{year}-"
    last = (
        ChangeRequest.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:04d}"


# --- creating and assessing ---------------------------------------------------------------------


@transaction.atomic
def create_change(
    *,
    actor: User | None,
    title: str,
    services: list[Service],
    change_type: str = ChangeType.NORMAL,
    description: str = "",
    deployment_procedure: str = "",
    planned_start: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
    reference: str = "",
) -> ChangeRequest:
    """A draft request for change naming the services it touches."""
    require_role(actor, *CHANGE_MANAGERS, action="Raising a request for change")
    if not services:
        raise ValidationError({"services": "name at least one service the change touches"})
    change = ChangeRequest(
        reference=reference or _next_reference(),
        title=title,
        change_type=change_type,
        description=description,
        deployment_procedure=deployment_procedure,
        planned_start=planned_start,
        planned_end=planned_end,
        currency=Provider.current().base_currency,
        requested_by=actor,
    )
    save_validated(change)
    change.services.set(services)
    _event(change, actor, "created", to_state=change.status, note=change.get_change_type_display())
    return change


@transaction.atomic
def update_change(
    *, actor: User | None, change: ChangeRequest, services: list[Service] | None = None, **changes
) -> ChangeRequest:
    """Edit a change while it is a draft or being assessed (services re-derive the impacts)."""
    require_role(actor, *CHANGE_MANAGERS, action="Changing a request for change")
    change = _locked(change)
    _require_status(change, EDITABLE, doing="be edited")
    for locked in ("status", "reference", "currency", "approved_after_the_fact", "cost_impact"):
        if locked in changes and changes[locked] != getattr(change, locked):
            raise ValidationError({locked: "cannot be changed here"})
        changes.pop(locked, None)
    changed = apply_changes(change, changes)
    if changed:
        save_validated(change)
    if services is not None:
        if not services:
            raise ValidationError({"services": "name at least one service the change touches"})
        before = set(change.services.values_list("pk", flat=True))
        if before != {s.pk for s in services}:
            change.services.set(services)
            changed["services"] = (len(before), len(services))
            if change.status == ChangeStatus.ASSESSMENT:
                _derive_impacts(change, actor)
    if changed:
        _event(change, actor, "updated", note=describe_changes(changed))
    return change


def governing_clause(change_type: str, clauses: list[ChangeClause]) -> ChangeClause | None:
    """The contract clause that governs a change of this type: the most specific scope wins."""
    by_scope = {clause.scope: clause for clause in clauses}
    for scope in CLAUSE_SCOPES[change_type]:
        if scope in by_scope:
            return by_scope[scope]
    return None


def _authorization_for(change: ChangeRequest, agreement: Agreement) -> dict:
    """How one affected customer authorizes this change, from its policy and contract."""
    policy = policy_for(agreement.customer)
    if policy.change_authorization == "co_authorize":
        pre_approved = change.change_type == ChangeType.STANDARD
        return {
            "authorization": Authorization.PRE_APPROVED
            if pre_approved
            else Authorization.CO_AUTHORIZE,
            "clause": None,
            "notice_days": 0,
            "repricing": "none",
        }
    clause = governing_clause(change.change_type, list(agreement.clauses.all()))
    if clause is None:  # the contract documents nothing: the customer is told, no approval
        return {
            "authorization": Authorization.NOTIFICATION,
            "clause": None,
            "notice_days": 0,
            "repricing": "none",
        }
    return {
        "authorization": Authorization.APPROVAL
        if clause.requires_approval
        else Authorization.NOTIFICATION,
        "clause": clause,
        "notice_days": clause.notice_days,
        "repricing": clause.repricing,
    }


def affected_agreements(change: ChangeRequest) -> list[Agreement]:
    """Active agreements covering one of the change's services: one per customer."""
    agreements = (
        Agreement.objects.filter(
            status=AgreementStatus.ACTIVE,
            lines__offering__service__in=change.services.all(),
        )
        .select_related("customer__provider")
        .prefetch_related("clauses")
        .distinct()
        .order_by("customer__name", "start_date", "pk")
    )
    first: dict[int, Agreement] = {}
    for agreement in agreements:
        first.setdefault(agreement.customer_id, agreement)
    return list(first.values())


def _derive_impacts(change: ChangeRequest, actor) -> list[CustomerImpact]:
    """(Re)derive the affected customers from their active agreements."""
    wanted = {a.customer_id: a for a in affected_agreements(change)}
    existing = {impact.customer_id: impact for impact in change.impacts.all()}
    for customer_id, impact in existing.items():
        if customer_id not in wanted:
            customer = impact.customer
            impact.delete()
            _event(change, actor, "impact_removed", note=str(customer), customer=customer)
    impacts = []
    for customer_id, agreement in wanted.items():
        terms = _authorization_for(change, agreement)
        impact = existing.get(customer_id) or CustomerImpact(
            change=change, customer=agreement.customer
        )
        impact.agreement = agreement
        impact.currency = agreement.currency
        for name, value in terms.items():
            setattr(impact, name, value)
        if impact.repricing == "none":
            impact.price_impact = None
        save_validated(impact)
        impacts.append(impact)
        if customer_id not in existing:
            _event(
                change,
                actor,
                "impact_derived",
                note=impact.get_authorization_display(),
                customer=agreement.customer,
            )
    return impacts


@transaction.atomic
def start_assessment(*, actor: User | None, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """draft → assessment: derive the affected customers from their active agreements."""
    require_role(actor, *CHANGE_MANAGERS, action="Assessing a change")
    change = _locked(change)
    _require_status(change, {ChangeStatus.DRAFT}, doing="start its assessment")
    _move(change, actor, ChangeStatus.ASSESSMENT, note=note)
    impacts = _derive_impacts(change, actor)
    if not impacts:
        _event(change, actor, "no_customer_affected", note="no active agreement covers it")
    return change


@transaction.atomic
def assess_change(
    *,
    actor: User | None,
    change: ChangeRequest,
    risk: str,
    service_impact: str,
    cost_impact: Decimal,
) -> ChangeRequest:
    """Record the impact assessment: risk, service impact, the provider's cost of the change."""
    require_role(actor, *CHANGE_MANAGERS, action="Assessing a change")
    change = _locked(change)
    _require_status(change, {ChangeStatus.ASSESSMENT}, doing="be assessed")
    changed = apply_changes(
        change, {"risk": risk, "service_impact": service_impact, "cost_impact": cost_impact}
    )
    if not risk:
        raise ValidationError({"risk": "rate the risk of the change"})
    save_validated(change)
    if changed:
        # The note never carries the cost: change-wide events are shown to every customer.
        _event(change, actor, "assessed", note=f"risk {change.risk}")
    return change


@transaction.atomic
def set_price_impact(
    *, actor: User | None, impact: CustomerImpact, price_impact: Decimal, note: str = ""
) -> CustomerImpact:
    """Quote the change's monthly price impact under a contract clause that reprices it."""
    require_role(actor, *CHANGE_MANAGERS, action="Quoting a price impact")
    change = _locked(impact.change)
    _require_status(change, {ChangeStatus.ASSESSMENT}, doing="quote a price impact")
    impact = CustomerImpact.objects.select_related("customer", "clause").get(pk=impact.pk)
    if impact.repricing == "none":
        raise DomainError(
            f"{impact.customer.name}'s agreement has no change clause that reprices this change",
            code="no_repricing_clause",
            field="price_impact",
        )
    impact.price_impact = price_impact
    impact.price_accepted_by = None
    impact.price_accepted_at = None
    save_validated(impact)
    _event(
        change,
        actor,
        "price_impact",
        note=f"{impact.currency} {price_impact} a month. {note}".strip(),
        customer=impact.customer,
    )
    return impact


@transaction.atomic
def submit_for_approval(
    *, actor: User | None, change: ChangeRequest, note: str = ""
) -> ChangeRequest:
    """assessment → awaiting approval: notify those who are only notified, then ask approvals."""
    require_role(actor, *CHANGE_MANAGERS, action="Submitting a change for approval")
    change = _locked(change)
    _require_status(change, {ChangeStatus.ASSESSMENT}, doing="be submitted for approval")
    if not change.risk or change.cost_impact is None:
        raise DomainError(
            "assess the change first: risk, service impact and cost impact",
            code="not_assessed",
            field="risk",
        )
    _move(change, actor, ChangeStatus.AWAITING_APPROVAL, note=note)
    now = timezone.now()
    for impact in change.impacts.select_related("customer"):
        if impact.authorization == Authorization.NOTIFICATION:
            impact.decision = Decision.NOTIFIED
            impact.notified_at = now
            save_validated(impact)
            _event(
                change,
                actor,
                "notified",
                note=f"{impact.notice_days} working days' notice under the contract",
                customer=impact.customer,
            )
        elif impact.notice_days:  # asked to approve: its notice runs from now too (R11)
            impact.notified_at = now
            save_validated(impact)
        elif impact.authorization == Authorization.PRE_APPROVED:
            impact.decision = Decision.NOT_REQUIRED
            save_validated(impact)
    _approve_if_complete(change, actor)
    return change


# --- approvals ----------------------------------------------------------------------------------


def missing_approvals(change: ChangeRequest) -> list[str]:
    """Who still has to approve: the IT change manager and/or affected customers."""
    missing = []
    verdicts = {a.customer_id: a.verdict for a in change.approvals.all()}
    if change.change_type != ChangeType.STANDARD and verdicts.get(None) != "approve":
        missing.append("IT change manager")
    for impact in change.impacts.all():
        if impact.needs_decision and impact.decision != Decision.APPROVED:
            missing.append(impact.customer.name)
    return missing


def _any_rejection(change: ChangeRequest) -> bool:
    return change.approvals.filter(verdict=Approval.Verdict.REJECT).exists()


def _approve_if_complete(change: ChangeRequest, actor) -> None:
    if missing_approvals(change) or _any_rejection(change):
        return
    if change.status == ChangeStatus.AWAITING_APPROVAL:
        _move(change, actor, ChangeStatus.APPROVED, note="every required approval is in")
    elif change.status in AFTER_THE_FACT | {ChangeStatus.REVIEWED} and (
        not change.approved_after_the_fact
    ):
        change.approved_after_the_fact = True
        save_validated(change)
        _event(change, actor, "approved_after_the_fact", note="every required approval is in")


def _decision_window(change: ChangeRequest, *, doing: str) -> bool:
    """Whether a decision now is after the fact (emergency); refuse outside the windows."""
    if change.status in DECIDABLE:
        return False
    if change.change_type == ChangeType.EMERGENCY and change.status in AFTER_THE_FACT:
        return True
    raise DomainError(
        f"{change.reference} is {change.get_status_display().lower()}: cannot {doing}",
        code="invalid_transition",
        field="status",
    )


@transaction.atomic
def record_it_decision(
    *, actor: User | None, change: ChangeRequest, verdict: str, note: str = ""
) -> Approval:
    """The IT change manager's authorization (every non-standard change needs it)."""
    require_role(actor, *CHANGE_MANAGERS, action="Authorizing a change for IT")
    change = _locked(change)
    after = _decision_window(change, doing="record the IT decision")
    if change.approvals.filter(customer__isnull=True).exists():
        raise DomainError("the IT decision is already recorded", code="already_decided")
    if verdict not in Approval.Verdict.values:
        raise ValidationError({"verdict": f"unknown verdict {verdict!r}"})
    approval = Approval(
        change=change, actor=actor, verdict=verdict, after_the_fact=after, note=note
    )
    save_validated(approval)
    _event(change, actor, f"it_{verdict}", note=("after the fact. " if after else "") + note)
    _after_decision(change, actor, verdict, who="the IT change manager")
    return approval


def value_at_stake(impact: CustomerImpact) -> tuple[Decimal, str]:
    """What the customer's approver commits to (R17), in the terms it is charged on.

    Charged at cost (policy ``charge_basis`` "cost"): the change's cost impact. Charged at price:
    twelve months of the quoted price impact (authority limits are yearly values).
    """
    if policy_for(impact.customer).charge_basis == "cost":
        change = impact.change
        return (change.cost_impact or Decimal(0)), change.currency
    return impact.yearly_price_impact, impact.currency


@transaction.atomic
def record_customer_decision(
    *,
    actor: User | None,
    impact: CustomerImpact,
    verdict: str,
    contact: Contact | None = None,
    note: str = "",
) -> Approval:
    """An affected customer's approval or rejection, as its policy and contract require.

    Internal customers co-authorize every non-standard change; external customers approve only
    where a contract clause requires it. The contact must be an active approver whose authority
    covers the value at stake (R17); a suspended customer's approvals are refused (R16).
    """
    customer = impact.customer
    contact = acting_contact(
        actor, customer, contact, staff_roles=CHANGE_MANAGERS, action="Approving a change"
    )
    change = _locked(impact.change)
    impact = CustomerImpact.objects.select_related("customer", "change").get(pk=impact.pk)
    after = _decision_window(change, doing="record a customer's decision")
    require_customer_in_good_standing(customer, what="approvals")
    if not impact.needs_decision:
        raise DomainError(
            f"{customer.name} is {impact.get_authorization_display().lower()}: "
            "no approval is asked of it",
            code="approval_not_required",
            field="verdict",
        )
    if impact.decision in (Decision.APPROVED, Decision.REJECTED):
        raise DomainError(f"{customer.name} has already decided", code="already_decided")
    if verdict not in Approval.Verdict.values:
        raise ValidationError({"verdict": f"unknown verdict {verdict!r}"})
    amount, currency = value_at_stake(impact)
    if verdict == Approval.Verdict.APPROVE:
        require_approver(contact, amount=amount, currency=currency)
    elif not contact.active or not contact.is_approver:
        require_approver(contact, amount=Decimal(0), currency=currency)
    approval = Approval(
        change=change,
        customer=customer,
        contact=contact,
        actor=actor,
        verdict=verdict,
        value_at_stake=amount,
        currency=currency,
        after_the_fact=after,
        note=note,
    )
    save_validated(approval)
    impact.decision = Decision.APPROVED if verdict == "approve" else Decision.REJECTED
    save_validated(impact)
    on_behalf = "" if actor is None or not is_provider_staff(actor) else " (recorded by IT)"
    _event(
        change,
        actor,
        f"customer_{verdict}",
        note=f"{contact.name}{on_behalf}{', after the fact' if after else ''}. {note}".strip(),
        customer=customer,
    )
    # The status step is change-wide (every affected customer sees it): never name the customer.
    _after_decision(change, actor, verdict, who="an affected customer")
    return approval


def _after_decision(change: ChangeRequest, actor, verdict: str, *, who: str) -> None:
    if verdict == Approval.Verdict.REJECT:
        if change.status == ChangeStatus.AWAITING_APPROVAL:
            _move(change, actor, ChangeStatus.REJECTED, note=f"rejected by {who}")
        return
    _approve_if_complete(change, actor)


@transaction.atomic
def accept_price_impact(
    *, actor: User | None, impact: CustomerImpact, contact: Contact | None = None, note: str = ""
) -> CustomerImpact:
    """The customer accepts the new price; required before the change can be scheduled."""
    customer = impact.customer
    contact = acting_contact(
        actor, customer, contact, staff_roles=CHANGE_MANAGERS, action="Accepting a price impact"
    )
    change = _locked(impact.change)
    impact = CustomerImpact.objects.select_related("customer").get(pk=impact.pk)
    _require_status(
        change,
        {ChangeStatus.AWAITING_APPROVAL, ChangeStatus.APPROVED},
        doing="accept its price impact",
    )
    require_customer_in_good_standing(customer, what="approvals")
    if not policy_for(customer).price_impact_needs_acceptance or not impact.has_price_impact:
        raise DomainError(
            f"there is no price impact for {customer.name} to accept",
            code="no_price_impact",
            field="price_impact",
        )
    if impact.price_accepted_at:
        raise DomainError("the price impact is already accepted", code="already_decided")
    require_approver(contact, amount=impact.yearly_price_impact, currency=impact.currency)
    impact.price_accepted_by = contact
    impact.price_accepted_at = timezone.now()
    save_validated(impact)
    _event(
        change,
        actor,
        "price_accepted",
        note=f"{contact.name} accepted {impact.currency} {impact.price_impact} a month. "
        f"{note}".strip(),
        customer=customer,
    )
    return impact


# --- tasks, training, schedule ------------------------------------------------------------------


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
    _require_status(change, OPEN, doing="get new tasks")
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
    _event(change, actor, "task_added", note=str(task), customer=customer)
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
    _event(task.change, actor, "task_done", note=str(task), customer=task.customer)
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
    _event(
        change,
        actor,
        "training_recorded",
        note=f"{contact.name} on {completed_on:%Y-%m-%d}",
        customer=contact.customer,
    )
    return record


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
    if change.status not in allowed:
        return DomainError(
            f"{change.reference} is {change.get_status_display().lower()}: cannot be rescheduled",
            code="invalid_transition",
            field="status",
        )
    return None


def may_set_window(user, change: ChangeRequest) -> bool:
    """Whether the user may set the change window now (pages offer the form only then)."""
    return window_refusal(user, change) is None


def earliest_after_notice(impact: CustomerImpact, since: dt.datetime) -> dt.datetime:
    """The earliest start ``impact.notice_days`` working days after ``since``, counted in the
    business calendar of the customer's agreement (R11)."""
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
    others = []
    if moved and change.status not in EDITABLE:
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
    reopened = _reopen_for_new_window(change, actor, others, window) if others else 0
    revert = (
        reopened
        and change.change_type != ChangeType.EMERGENCY
        and change.status in (ChangeStatus.APPROVED, ChangeStatus.SCHEDULED)
    )
    if change.status == ChangeStatus.SCHEDULED and not revert:
        _check_ready_to_schedule(change)
    save_validated(change)
    _event(
        change,
        actor,
        "window_set",
        from_state=f"{before[0]:%Y-%m-%d %H:%M}" if before[0] else "",
        to_state=f"{planned_start:%Y-%m-%d %H:%M}",
        note=f"{window}. {note}".strip(),
    )
    if revert:
        _move(
            change,
            actor,
            ChangeStatus.AWAITING_APPROVAL,
            note="the window moved: the affected customers' approvals are asked again",
        )
    return change


def _reopen_for_new_window(change, actor, impacts, window: str) -> int:
    """Restart notice and reopen given approvals of ``impacts`` for a new window."""
    now = timezone.now()
    reopened = 0
    for impact in impacts:
        if impact.notice_days or impact.authorization == Authorization.NOTIFICATION:
            impact.notified_at = now
            save_validated(impact)
            _event(
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
            _event(
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


def schedule_blockers(change: ChangeRequest) -> list[tuple[str, str]]:
    """(code, reason) pairs that keep a change from being scheduled (R11)."""
    blockers = []
    if not (change.planned_start and change.planned_end):
        return [("no_window", "set the change window first")]
    start_day = change.planned_start.date()
    for impact in change.impacts.select_related("customer"):
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
                for r in change.trainings.filter(contact__customer=impact.customer)
            }
            for task in change.tasks.filter(customer=impact.customer, kind=TaskKind.DEPLOYMENT):
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
    allowed = {ChangeStatus.APPROVED}
    if change.change_type == ChangeType.EMERGENCY:
        allowed.add(ChangeStatus.AWAITING_APPROVAL)
    _require_status(change, allowed, doing="be scheduled")
    _check_ready_to_schedule(change)
    early = change.status == ChangeStatus.AWAITING_APPROVAL
    pending = ", ".join(missing_approvals(change))
    _move(
        change,
        actor,
        ChangeStatus.SCHEDULED,
        note=(f"emergency: approvals after the fact ({pending}). " if early else "") + note,
    )
    return change


@transaction.atomic
def implement_change(*, actor: User | None, change: ChangeRequest, note: str = "") -> ChangeRequest:
    """scheduled → implemented."""
    require_role(actor, *CHANGE_MANAGERS, action="Implementing a change")
    change = _locked(change)
    _require_status(change, {ChangeStatus.SCHEDULED}, doing="be marked implemented")
    _move(change, actor, ChangeStatus.IMPLEMENTED, note=note)
    _apply_accepted_prices(change, actor, completed_on=timezone.localdate())
    return change


def _apply_accepted_prices(change: ChangeRequest, actor, *, completed_on: dt.date) -> None:
    """Each accepted price impact becomes a new version of the customer's agreement from the
    completion date (R11), so the next period close bills it."""
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
            _event(
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
        _event(
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
    _require_status(change, {ChangeStatus.IMPLEMENTED}, doing="be reviewed")
    missing = missing_approvals(change)
    if missing and not _any_rejection(change):
        raise DomainError(
            "record the approvals after the fact first: " + ", ".join(missing),
            code="approvals_missing",
        )
    _move(change, actor, ChangeStatus.REVIEWED, note=note)
    return change


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
