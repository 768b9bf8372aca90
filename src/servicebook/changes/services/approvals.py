"""Asking for and recording the approvals of a change: the IT change manager's, and each
affected customer's as its policy and contract require (R11, R16, R17); price acceptance."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from servicebook.changes.models import (
    Approval,
    Authorization,
    ChangeRequest,
    ChangeStatus,
    ChangeType,
    CustomerImpact,
    Decision,
)
from servicebook.changes.services.requests import (
    AFTER_THE_FACT,
    CHANGE_MANAGERS,
    DECIDABLE,
    _locked,
)
from servicebook.changes.workflows import CHANGE_REQUEST
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import is_provider_staff
from servicebook.core.services import require_role, save_validated
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with
from servicebook.parties.authority import (
    acting_contact,
    require_approver,
    require_customer_in_good_standing,
)
from servicebook.parties.models import Contact
from servicebook.parties.selectors import people_of
from servicebook.policy import policy_for


@transaction.atomic
def submit_for_approval(
    *, actor: User | None, change: ChangeRequest, note: str = ""
) -> ChangeRequest:
    """assessment → awaiting approval: notify those who are only notified, then ask approvals."""
    require_role(actor, *CHANGE_MANAGERS, action="Submitting a change for approval")
    change = _locked(change)
    CHANGE_REQUEST.require(change, {ChangeStatus.ASSESSMENT}, doing="be submitted for approval")
    if not change.risk or change.cost_impact is None:
        raise DomainError(
            "assess the change first: risk, service impact and cost impact",
            code="not_assessed",
            field="risk",
        )
    CHANGE_REQUEST.move(change, ChangeStatus.AWAITING_APPROVAL, actor=actor, note=note)
    now = timezone.now()
    for impact in change.impacts.select_related("customer"):
        if impact.authorization == Authorization.NOTIFICATION:
            impact.decision = Decision.NOTIFIED
            impact.notified_at = now
            save_validated(impact)
            CHANGE_REQUEST.record(
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
    if change.status == ChangeStatus.AWAITING_APPROVAL:
        _ask_approvers(change)
    return change


def _ask_approvers(change: ChangeRequest) -> None:
    """Tell whoever must decide (R11, R17): the IT change managers, and each affected
    customer's approvers; customers only notified of the change are told it is coming."""
    link = reverse("changes:detail", args=[change.pk])
    missing = missing_approvals(change)
    asked = [*staff_with(*CHANGE_MANAGERS)] if "IT change manager" in missing else []
    told = []
    for impact in change.impacts.select_related("customer"):
        if impact.needs_decision and impact.decision == Decision.PENDING:
            asked.extend(people_of(impact.customer, approvers=True))
        elif impact.decision == Decision.NOTIFIED:
            told.extend(people_of(impact.customer))
    start = change.planned_start and timezone.localtime(change.planned_start)
    window = f" Planned for {start:%d %b %Y %H:%M}." if start else ""
    notify(
        kind=Kind.APPROVAL,
        recipients=asked,
        message=Message(
            f"Change {change.reference} awaits your decision", change.title + window, link
        ),
    )
    notify(
        kind=Kind.CHANGE_TASK,
        recipients=told,
        message=Message(f"Change {change.reference} is coming", change.title + window, link),
    )


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
        CHANGE_REQUEST.move(
            change, ChangeStatus.APPROVED, actor=actor, note="every required approval is in"
        )
    elif change.status in AFTER_THE_FACT | {ChangeStatus.REVIEWED} and (
        not change.approved_after_the_fact
    ):
        change.approved_after_the_fact = True
        save_validated(change)
        CHANGE_REQUEST.record(
            change, actor, "approved_after_the_fact", note="every required approval is in"
        )


def _decision_window(change: ChangeRequest, *, doing: str) -> bool:
    """Whether a decision now is after the fact (emergency); refuse outside the windows."""
    emergency = change.change_type == ChangeType.EMERGENCY
    CHANGE_REQUEST.require(
        change, DECIDABLE | (AFTER_THE_FACT if emergency else set()), doing=doing
    )
    return change.status in AFTER_THE_FACT


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
    CHANGE_REQUEST.record(
        change, actor, f"it_{verdict}", note=("after the fact. " if after else "") + note
    )
    _after_decision(change, actor, verdict, who="the IT change manager")
    return approval


def value_at_stake(impact: CustomerImpact) -> tuple[Decimal, str]:
    """What the customer's approver commits to (R17), in the terms it is charged on.

    Charged at cost (policy ``charge_basis`` "cost"): the change's cost impact. Charged at price:
    twelve months of the quoted price impact (authority limits are yearly values).
    """
    if policy_for(impact.customer).charged_at_cost:
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
    CHANGE_REQUEST.record(
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
            CHANGE_REQUEST.move(
                change, ChangeStatus.REJECTED, actor=actor, note=f"rejected by {who}"
            )
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
    CHANGE_REQUEST.require(
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
    CHANGE_REQUEST.record(
        change,
        actor,
        "price_accepted",
        note=f"{contact.name} accepted {impact.currency} {impact.price_impact} a month. "
        f"{note}".strip(),
        customer=customer,
    )
    return impact
