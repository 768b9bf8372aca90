"""Raising, editing and assessing a request for change: the affected customers are derived
from their active agreements, and each one's policy and contract say how it authorizes (R11)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementStatus, ChangeClause
from servicebook.catalog.models import Service
from servicebook.changes.models import (
    Authorization,
    ChangeRequest,
    ChangeStatus,
    ChangeType,
    CustomerImpact,
)
from servicebook.changes.workflows import CHANGE_REQUEST
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.core.services import apply_changes, describe_changes, require_role, save_validated
from servicebook.parties.models import Provider
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


def _locked(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.select_for_update().get(pk=change.pk)


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
    CHANGE_REQUEST.record(
        change, actor, "created", to_state=change.status, note=change.get_change_type_display()
    )
    return change


@transaction.atomic
def update_change(
    *, actor: User | None, change: ChangeRequest, services: list[Service] | None = None, **changes
) -> ChangeRequest:
    """Edit a change while it is a draft or being assessed (services re-derive the impacts)."""
    require_role(actor, *CHANGE_MANAGERS, action="Changing a request for change")
    change = _locked(change)
    CHANGE_REQUEST.require(change, EDITABLE, doing="be edited")
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
        CHANGE_REQUEST.record(change, actor, "updated", note=describe_changes(changed))
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
    if policy.co_authorizes_changes:
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
            CHANGE_REQUEST.record(
                change, actor, "impact_removed", note=str(customer), customer=customer
            )
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
            CHANGE_REQUEST.record(
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
    CHANGE_REQUEST.move(change, ChangeStatus.ASSESSMENT, actor=actor, note=note)
    impacts = _derive_impacts(change, actor)
    if not impacts:
        CHANGE_REQUEST.record(
            change, actor, "no_customer_affected", note="no active agreement covers it"
        )
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
    CHANGE_REQUEST.require(change, {ChangeStatus.ASSESSMENT}, doing="be assessed")
    changed = apply_changes(
        change, {"risk": risk, "service_impact": service_impact, "cost_impact": cost_impact}
    )
    if not risk:
        raise ValidationError({"risk": "rate the risk of the change"})
    save_validated(change)
    if changed:
        # The note never carries the cost: change-wide events are shown to every customer.
        CHANGE_REQUEST.record(change, actor, "assessed", note=f"risk {change.risk}")
    return change


@transaction.atomic
def set_price_impact(
    *, actor: User | None, impact: CustomerImpact, price_impact: Decimal, note: str = ""
) -> CustomerImpact:
    """Quote the change's monthly price impact under a contract clause that reprices it."""
    require_role(actor, *CHANGE_MANAGERS, action="Quoting a price impact")
    change = _locked(impact.change)
    CHANGE_REQUEST.require(change, {ChangeStatus.ASSESSMENT}, doing="quote a price impact")
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
    CHANGE_REQUEST.record(
        change,
        actor,
        "price_impact",
        note=f"{impact.currency} {price_impact} a month. {note}".strip(),
        customer=impact.customer,
    )
    return impact
