"""Every write to agreements and their lines: validated, permission-checked, audited."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from servicebook.agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementLine,
    AgreementStatus,
    Calendar,
    ChangeClause,
    CreditTier,
    ServiceLevelTarget,
)
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.core.services import apply_changes, describe_changes, require_role, save_validated
from servicebook.parties.models import Customer, CustomerStatus

AGREEMENT_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)
EDITABLE_STATUSES = {AgreementStatus.DRAFT, AgreementStatus.NEGOTIATION}

AGREEMENT_TRANSITIONS: dict[str, set[str]] = {
    AgreementStatus.DRAFT: {AgreementStatus.NEGOTIATION, AgreementStatus.ACTIVE},
    AgreementStatus.NEGOTIATION: {AgreementStatus.DRAFT, AgreementStatus.ACTIVE},
    AgreementStatus.ACTIVE: {AgreementStatus.EXPIRED, AgreementStatus.TERMINATED},
    AgreementStatus.EXPIRED: set(),
    AgreementStatus.TERMINATED: set(),
}


@transaction.atomic
def create_agreement(
    *, actor: User | None, customer: Customer, currency: str | None = None, **fields
) -> Agreement:
    """A new draft agreement whose kind (SLA or contract) the customer's policy decides (R12)."""
    require_role(actor, *AGREEMENT_EDITORS, action="Creating an agreement")
    if customer.status == CustomerStatus.TERMINATED:
        raise DomainError("a terminated customer cannot get a new agreement", field="customer")
    agreement = Agreement(
        customer=customer,
        kind=customer.policy.agreement_kind,
        currency=currency or customer.billing_currency,
        **fields,
    )
    if agreement.status != AgreementStatus.DRAFT and actor is not None:
        raise ValidationError({"status": "a new agreement starts as a draft"})
    save_validated(agreement)
    AgreementEvent.objects.create(
        agreement=agreement, actor=actor, action="created", to_state=agreement.status
    )
    return agreement


@transaction.atomic
def update_agreement(*, actor: User | None, agreement: Agreement, **changes) -> Agreement:
    require_role(actor, *AGREEMENT_EDITORS, action="Changing an agreement")
    for locked in ("customer", "kind", "status", "currency"):
        if locked in changes and changes[locked] != getattr(agreement, locked):
            raise ValidationError({locked: "cannot be changed here"})
        changes.pop(locked, None)
    _require_editable(agreement)
    changed = apply_changes(agreement, changes)
    if changed:
        save_validated(agreement)
        AgreementEvent.objects.create(
            agreement=agreement, actor=actor, action="updated", note=describe_changes(changed)
        )
    return agreement


@transaction.atomic
def add_line(
    *,
    actor: User | None,
    agreement: Agreement,
    offering: Offering,
    quantity: Decimal,
    unit_price: Decimal | None = None,
    description: str = "",
) -> AgreementLine:
    """Add an offering to a draft agreement; the unit price defaults to the list price."""
    require_role(actor, *AGREEMENT_EDITORS, action="Adding an agreement line")
    _require_editable(agreement)
    line = AgreementLine(
        agreement=agreement,
        offering=offering,
        quantity=quantity,
        unit_price=offering.list_price if unit_price is None else unit_price,
        description=description,
    )
    save_validated(line)
    AgreementEvent.objects.create(
        agreement=agreement, actor=actor, action="line_added", note=f"{offering} × {quantity}"
    )
    return line


@transaction.atomic
def update_line(*, actor: User | None, line: AgreementLine, **changes) -> AgreementLine:
    require_role(actor, *AGREEMENT_EDITORS, action="Changing an agreement line")
    _require_editable(line.agreement)
    changes.pop("agreement", None)
    changed = apply_changes(line, changes)
    if changed:
        save_validated(line)
        AgreementEvent.objects.create(
            agreement=line.agreement,
            actor=actor,
            action="line_updated",
            note=f"{line.offering}: {describe_changes(changed)}",
        )
    return line


@transaction.atomic
def remove_line(*, actor: User | None, line: AgreementLine) -> None:
    require_role(actor, *AGREEMENT_EDITORS, action="Removing an agreement line")
    _require_editable(line.agreement)
    AgreementEvent.objects.create(
        agreement=line.agreement, actor=actor, action="line_removed", note=str(line.offering)
    )
    line.delete()


@transaction.atomic
def change_agreement_status(
    *, actor: User | None, agreement: Agreement, to_status: str, note: str = ""
) -> Agreement:
    """Move an agreement along draft → negotiation → active → expired | terminated."""
    require_role(actor, *AGREEMENT_EDITORS, action="Changing an agreement's status")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    from_status = agreement.status
    if to_status not in AgreementStatus.values:
        raise ValidationError({"to_status": f"unknown status {to_status!r}"})
    if to_status not in AGREEMENT_TRANSITIONS[from_status]:
        raise DomainError(
            f"the agreement is {from_status} and cannot become {to_status}",
            code="invalid_transition",
            field="to_status",
        )
    if to_status == AgreementStatus.ACTIVE:
        if agreement.customer.status != CustomerStatus.ACTIVE:
            raise DomainError(
                f"the customer is {agreement.customer.get_status_display().lower()}: "
                "only an active customer's agreement can become active",
                code="customer_not_active",
                field="customer",
            )
        if not agreement.lines.exists():
            raise DomainError("an agreement needs at least one line to become active")
    agreement.status = to_status
    save_validated(agreement)
    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="status",
        from_state=from_status,
        to_state=to_status,
        note=note,
    )
    return agreement


def _require_editable(agreement: Agreement) -> None:
    if agreement.status not in EDITABLE_STATUSES:
        raise DomainError(
            f"a {agreement.get_status_display().lower()} agreement cannot be edited; "
            "amend it instead",
            code="not_editable",
        )


# --- calendars, service level targets, credits, change clauses --------------------------------


@transaction.atomic
def create_calendar(*, actor: User | None, **fields) -> Calendar:
    """A business calendar (time zone, working windows, holidays) targets are measured in."""
    require_role(actor, *AGREEMENT_EDITORS, action="Creating a calendar")
    calendar = Calendar(**fields)
    save_validated(calendar)
    return calendar


@transaction.atomic
def update_calendar(*, actor: User | None, calendar: Calendar, **changes) -> Calendar:
    """Change a calendar; service levels measured in it are recomputed from ticket history."""
    require_role(actor, *AGREEMENT_EDITORS, action="Changing a calendar")
    if apply_changes(calendar, changes):
        save_validated(calendar)
    return calendar


@transaction.atomic
def add_target(
    *,
    actor: User | None,
    agreement: Agreement,
    credit_tiers: list[tuple[Decimal, Decimal]] | None = None,
    **fields,
) -> ServiceLevelTarget:
    """Add a service level target; contracts may carry a service credit schedule (R12)."""
    require_role(actor, *AGREEMENT_EDITORS, action="Adding a service level target")
    _require_editable(agreement)
    target = ServiceLevelTarget(agreement=agreement, **fields)
    save_validated(target)
    if credit_tiers:
        set_credit_tiers(actor=actor, target=target, tiers=credit_tiers)
    AgreementEvent.objects.create(
        agreement=agreement, actor=actor, action="target_added", note=str(target)
    )
    return target


@transaction.atomic
def set_credit_tiers(
    *, actor: User | None, target: ServiceLevelTarget, tiers: list[tuple[Decimal, Decimal]]
) -> list[CreditTier]:
    """Replace a contract target's credit schedule: [(below_percent, credit_percent), …]."""
    require_role(actor, *AGREEMENT_EDITORS, action="Setting service credits")
    _require_editable(target.agreement)
    if not target.agreement.policy.penalties_apply:
        raise DomainError(
            "service credits apply to contracts, not service level agreements",
            code="no_credits_for_sla",
            field="credit_tiers",
        )
    ordered = sorted(tiers, key=lambda tier: -Decimal(tier[0]))
    credits = [Decimal(credit) for _, credit in ordered]
    if credits != sorted(credits):
        raise ValidationError(
            {"credit_tiers": "a lower attainment must earn at least the same credit"}
        )
    target.credit_tiers.all().delete()
    created = []
    for below, credit in ordered:
        tier = CreditTier(target=target, below_percent=below, credit_percent=credit)
        save_validated(tier)
        created.append(tier)
    return created


@transaction.atomic
def add_change_clause(*, actor: User | None, agreement: Agreement, **fields) -> ChangeClause:
    """Record how the contract governs changes: approval or notice, and repricing (R11)."""
    require_role(actor, *AGREEMENT_EDITORS, action="Adding a change clause")
    _require_editable(agreement)
    clause = ChangeClause(agreement=agreement, **fields)
    save_validated(clause)
    AgreementEvent.objects.create(
        agreement=agreement, actor=actor, action="clause_added", note=str(clause)
    )
    return clause
