"""Every write to agreements and their lines: validated, permission-checked, audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook import ports
from servicebook.agreements import notices
from servicebook.agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementLine,
    AgreementSignature,
    AgreementStatus,
    Calendar,
    ChangeClause,
    ConsiderationItem,
    CreditTier,
    JurisdictionAcknowledgement,
    Outcome,
    ServiceLevelTarget,
)
from servicebook.agreements.selectors import activation_blockers, jurisdiction_conflicts
from servicebook.agreements.workflows import AGREEMENT
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.core.services import (
    apply_changes,
    describe_changes,
    require_role,
    save_validated,
)
from servicebook.parties.models import Contact, Customer
from servicebook.parties.services import (
    latest_due_diligence,
    require_fresh_due_diligence,
    require_good_standing,
)

AGREEMENT_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)
EDITABLE_STATUSES = {AgreementStatus.DRAFT, AgreementStatus.NEGOTIATION}
ENDED_STATUSES = {AgreementStatus.EXPIRED, AgreementStatus.TERMINATED}


#: The longest threshold a service level target may set: a year, in minutes.
MAX_THRESHOLD_MINUTES = 525_600


@transaction.atomic
def create_agreement(
    *, actor: User | None, customer: Customer, currency: str | None = None, **fields
) -> Agreement:
    """A new draft agreement whose kind (SLA or contract) the customer's policy decides."""
    require_role(actor, *AGREEMENT_EDITORS, action="Creating an agreement")
    require_good_standing(customer, action="a new agreement")
    require_fresh_due_diligence(customer, action="A new agreement")  # R17: failed or expired
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
        if {"contract_value", "consideration_cash"} & set(changed):
            errors = agreement.consideration_errors()  # R3: the value is what the lines are worth
            if errors:
                raise ValidationError({"contract_value": errors})
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
    require_good_standing(agreement.customer, action="changing its agreements")
    if unit_price is None and offering.currency != agreement.currency:
        raise ValidationError(
            {
                "unit_price": f"give the unit price in {agreement.currency}: the list price of "
                f"{offering} is in {offering.currency}"
            }
        )
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
    return _set_status(actor=actor, agreement=agreement, to_status=to_status, note=note)


def _set_status(
    *,
    actor: User | None,
    agreement: Agreement,
    to_status: str,
    note: str = "",
    signature_required: bool = True,
) -> Agreement:
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    AGREEMENT.check(agreement, to_status)
    if to_status == AgreementStatus.ACTIVE:
        blockers = activation_blockers(agreement, signature_required=signature_required)
        if blockers:
            raise DomainError("cannot activate: " + "; ".join(blockers), code="activation_refused")
        agreement.due_diligence = latest_due_diligence(agreement.customer)
    if to_status in ENDED_STATUSES and agreement.end_date is None:
        agreement.end_date = max(timezone.localdate(), agreement.start_date)  # charges stop
    AGREEMENT.move(agreement, to_status, actor=actor, note=note)
    if to_status == AgreementStatus.NEGOTIATION:
        notices.to_sign(agreement)
    previous = agreement.previous
    if to_status == AgreementStatus.ACTIVE and previous and previous.status == "active":
        _end_before(previous, agreement.start_date)
        _set_status(
            actor=actor,
            agreement=previous,
            to_status=AgreementStatus.EXPIRED,
            note=f"superseded by version {agreement.version}",
        )
    if to_status == AgreementStatus.ACTIVE:
        ports.measurement_changed(agreement=agreement)  # its first attainment
    return agreement


def _end_before(previous: Agreement, start: dt.date) -> None:
    """A superseded version is in force until the day before its successor starts (billing
    charges each month to the version in force; decision 0023)."""
    previous = Agreement.objects.select_for_update().get(pk=previous.pk)
    if start > previous.start_date and (previous.end_date is None or previous.end_date >= start):
        previous.end_date = start - dt.timedelta(days=1)
        save_validated(previous)


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
        ports.measurement_changed()  # levels recomputes what is measured in it
    return calendar


@transaction.atomic
def add_target(
    *,
    actor: User | None,
    agreement: Agreement,
    credit_tiers: list[tuple[Decimal, Decimal]] | None = None,
    **fields,
) -> ServiceLevelTarget:
    """Add a service level target; contracts may carry a service credit schedule."""
    require_role(actor, *AGREEMENT_EDITORS, action="Adding a service level target")
    _require_editable(agreement)
    target = ServiceLevelTarget(agreement=agreement, **fields)
    if (target.threshold_minutes or 0) > MAX_THRESHOLD_MINUTES:
        raise DomainError(
            "threshold_minutes: at most 525,600 minutes (a year)", field="threshold_minutes"
        )
    same = agreement.targets.filter(
        metric=target.metric, priority=target.priority, service_id=target.service_id
    )
    if same.exists():
        raise DomainError(
            f"this agreement already has a target for {same.first()}: change that one, or "
            "measure another priority or service",
            code="duplicate_target",
            field="metric",
        )
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
    if ordered and Decimal(ordered[0][0]) > target.attainment_percent:
        raise ValidationError(
            {
                "credit_tiers": f"a tier starts at or below the target's "
                f"{target.attainment_percent}%: a month that meets the target earns no credit"
            }
        )
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
    """Record how the contract governs changes: approval or notice, and repricing."""
    require_role(actor, *AGREEMENT_EDITORS, action="Adding a change clause")
    _require_editable(agreement)
    clause = ChangeClause(agreement=agreement, **fields)
    if (clause.notice_days or 0) > 366:
        raise DomainError("notice_days: at most 366 days' notice", field="notice_days")
    if agreement.clauses.filter(
        scope=clause.scope, text=clause.text, notice_days=clause.notice_days
    ).exists():
        raise DomainError("the agreement has this clause already", code="duplicate_clause")
    save_validated(clause)
    AgreementEvent.objects.create(
        agreement=agreement, actor=actor, action="clause_added", note=str(clause)
    )
    return clause


@transaction.atomic
def set_consideration(
    *,
    actor: User | None,
    agreement: Agreement,
    contract_value: Decimal,
    cash: Decimal,
    in_kind: list[dict],
) -> Agreement:
    """Record how a month of the contract is settled: cash plus items in kind.

    ``in_kind`` items are ``{"description", "unit_value", "quantity"}``; cash plus the items at
    their agreed unit value must equal the contract value to the cent.
    """
    require_role(actor, *AGREEMENT_EDITORS, Role.FINANCE, action="Setting the consideration")
    _require_editable(agreement)
    if in_kind and not agreement.policy.accepts_in_kind:
        raise DomainError(
            "this kind of customer does not settle in kind", code="no_in_kind", field="in_kind"
        )
    agreement.contract_value = contract_value
    agreement.consideration_cash = cash
    save_validated(agreement)
    agreement.consideration_items.all().delete()
    for item in in_kind:
        save_validated(ConsiderationItem(agreement=agreement, **item))
    errors = agreement.consideration_errors()
    if errors:
        raise ValidationError({"consideration": errors})
    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="consideration",
        note=f"cash {cash} + in kind {agreement.in_kind_value()} = {contract_value}",
    )
    return agreement


# --- signing (R17), outcomes (R9), local law (R20), amendments, termination -----------------


@transaction.atomic
def sign_agreement(*, actor: User | None, agreement: Agreement, contact: Contact):
    """Record a customer contact's signature. Only an active approver of the same customer
    whose authority limit covers the yearly value may sign; anyone else is refused with why."""
    require_role(actor, *AGREEMENT_EDITORS, action="Recording a signature")
    _require_editable(agreement)
    require_good_standing(agreement.customer, action="signing an agreement")
    value = agreement.yearly_value()
    if contact.customer_id != agreement.customer_id:
        raise DomainError(
            f"{contact.name} is not a contact of {agreement.customer}", field="contact"
        )
    if not contact.active:
        raise DomainError(f"{contact.name} is no longer an active contact", field="contact")
    if not contact.is_approver:
        raise DomainError(
            f"{contact.name} is not an approver and may not sign",
            code="no_authority",
            field="contact",
        )
    if (contact.authority_limit or Decimal(0)) < value:
        raise DomainError(
            f"{contact.name}'s authority limit {agreement.currency} {contact.authority_limit} "
            f"is below the agreement's yearly value {agreement.currency} {value}",
            code="no_authority",
            field="contact",
        )
    signature = AgreementSignature.objects.create(
        agreement=agreement, contact=contact, yearly_value=value, recorded_by=actor
    )
    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="signed",
        note=f"{contact.name} (authority {contact.authority_limit}) for yearly value {value}",
    )
    return signature


@transaction.atomic
def add_outcome(*, actor: User | None, agreement: Agreement, description: str, measure: str = ""):
    """Record a business outcome an external customer wants from the agreement."""
    require_role(actor, *AGREEMENT_EDITORS, action="Recording a desired outcome")
    outcome = Outcome(agreement=agreement, description=description, measure=measure)
    save_validated(outcome)
    AgreementEvent.objects.create(
        agreement=agreement, actor=actor, action="outcome_added", note=description
    )
    return outcome


@transaction.atomic
def acknowledge_jurisdiction(
    *, actor: User | None, agreement: Agreement, service, contact: Contact, statement: str
) -> JurisdictionAcknowledgement:
    """Record the customer's acknowledgement that obeying its local law on data location is its
    own legal responsibility, for one conflicting service."""
    require_role(actor, *AGREEMENT_EDITORS, action="Recording an acknowledgement")
    conflict = next(
        (c for c in jurisdiction_conflicts(agreement) if c.service_id == service.pk), None
    )
    if conflict is None:
        raise DomainError(f"{service} has no data-location conflict here", field="service")
    if contact.customer_id != agreement.customer_id or not contact.is_approver:
        raise DomainError(
            "the acknowledgement must come from an approver of the customer", field="contact"
        )
    if not statement.strip():
        raise ValidationError({"statement": "record what the customer acknowledged"})
    acknowledgement = JurisdictionAcknowledgement.objects.create(
        agreement=agreement,
        service=service,
        contact=contact,
        statement=statement.strip(),
        recorded_by=actor,
    )
    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="jurisdiction_acknowledged",
        note=f"{contact.name}: {service} data in {', '.join(conflict.outside)}",
    )
    return acknowledgement


@transaction.atomic
def amend_agreement(*, actor: User | None, agreement: Agreement, note: str = "") -> Agreement:
    """Start a new version of an active agreement as a draft copy; the old one stays readable
    and is superseded (expired) when the amendment becomes active."""
    require_role(actor, *AGREEMENT_EDITORS, action="Amending an agreement")
    require_good_standing(agreement.customer, action="amending an agreement")
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError("only an active agreement can be amended", code="not_amendable")
    if Agreement.objects.filter(previous=agreement).exists():
        raise DomainError("this version already has an amendment", code="already_amended")
    return _draft_amendment(actor=actor, agreement=agreement, note=note)


def _draft_amendment(*, actor: User | None, agreement: Agreement, note: str) -> Agreement:
    """The next version of an active agreement as a draft copy (lines, targets, clauses…)."""
    old_pk = agreement.pk
    old = Agreement.objects.get(pk=old_pk)
    new = Agreement.objects.get(pk=old_pk)
    new.pk = new.id = None
    new.version, new.previous, new.status, new.due_diligence = old.version + 1, old, "draft", None
    save_validated(new)
    for line in old.lines.all():
        line.pk = None
        line.agreement = new
        line.save()
    for target in old.targets.prefetch_related("credit_tiers"):
        tiers = list(target.credit_tiers.all())
        target.pk = None
        target.agreement = new
        target.save()
        for tier in tiers:
            tier.pk, tier.target = None, target
            tier.save()
    for related in (old.clauses.all(), old.consideration_items.all(), old.outcomes.all()):
        for item in related:
            item.pk, item.agreement = None, new
            item.save()
    for ack in old.acknowledgements.all():
        ack.pk, ack.agreement = None, new
        ack.save()
    AgreementEvent.objects.create(
        agreement=new,
        actor=actor,
        action="amendment",
        to_state="draft",
        note=f"amends version {old.version}. {note}".strip(),
    )
    AgreementEvent.objects.create(
        agreement=old, actor=actor, action="amended", note=f"version {new.version} drafted"
    )
    return new


PRICE_ADJUSTMENT_NAME = "Price adjustment from changes"


def price_adjustment_offering(service, currency: str) -> Offering:
    """The flat monthly offering that carries accepted change price impacts on a contract's
    lines (one per service and currency; inactive, so never offered in the catalog)."""
    code = f"price-adjustment-{service.pk}-{currency.lower()}"
    offering = Offering.objects.filter(code=code).first()
    if offering is None:
        offering = Offering(
            service=service,
            code=code,
            name=PRICE_ADJUSTMENT_NAME,
            unit="month",
            charge_model="flat",
            list_price=Decimal(0),
            currency=currency,
            active=False,
        )
        save_validated(offering)
    return offering


@transaction.atomic
def apply_price_change(
    *,
    actor: User | None,
    agreement: Agreement,
    amount: Decimal,
    effective: dt.date,
    service,
    reason: str,
) -> Agreement:
    """An accepted price impact becomes a new version of the agreement.

    The new version copies the active one, adds ``amount`` a month to its price-adjustment line
    for ``service`` (the added price is settled in cash: the stated value and the cash part of
    the consideration grow by the same amount), starts on ``effective`` and is activated at
    once: the customer's approver accepted the price under the contract's change clause, so no
    new signature is needed. The old version ends the day before and stays readable. When
    something else blocks activation (e.g. due diligence), the new version stays a draft for a
    service manager to activate, and the old price goes on being billed.
    """
    require_role(
        actor, *AGREEMENT_EDITORS, Role.CHANGE_MANAGER, action="Applying an accepted price change"
    )
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    start = _repricing_start(agreement, effective)
    new = _draft_amendment(actor=actor, agreement=agreement, note=reason)
    new.start_date = start
    if new.contract_value is not None:
        new.contract_value += amount
    if new.consideration_cash is not None:
        new.consideration_cash += amount
    save_validated(new)
    _add_price_adjustment(new, service=service, amount=amount, currency=agreement.currency)
    AgreementEvent.objects.create(
        agreement=new,
        actor=actor,
        action="price_change",
        note=f"{agreement.currency} {amount:+} a month from {start}: {reason}".strip(),
    )
    if activation_blockers(new, signature_required=False):
        AgreementEvent.objects.create(
            agreement=new,
            actor=actor,
            action="activation_pending",
            note="the new version stays a draft until a service manager activates it",
        )
        return new
    old_end = max(agreement.start_date, start - dt.timedelta(days=1))
    if agreement.end_date is None or agreement.end_date > old_end:
        agreement.end_date = old_end
        save_validated(agreement)
    return _set_status(
        actor=actor,
        agreement=new,
        to_status=AgreementStatus.ACTIVE,
        note=f"price change accepted under the contract's change clause: {reason}".strip(),
        signature_required=False,
    )


def _repricing_start(agreement: Agreement, effective: dt.date) -> dt.date:
    """When a price change on ``agreement`` takes effect; refuses one that cannot be applied
    (not active, already amended, or ending before the change)."""
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError(
            f"{agreement.reference} version {agreement.version} is "
            f"{agreement.get_status_display().lower()}: only an active agreement is repriced",
            code="not_amendable",
        )
    pending = Agreement.objects.filter(previous=agreement).first()
    if pending is not None:
        raise DomainError(
            f"{agreement.reference} already has a draft amendment (version {pending.version}): "
            "activate or finish it first, then apply the price change",
            code="already_amended",
        )
    start = max(effective, agreement.start_date)
    if agreement.end_date and agreement.end_date < start:
        raise DomainError(
            f"{agreement.reference} ends on {agreement.end_date}, before the price change takes "
            f"effect on {start}",
            code="agreement_ended",
        )
    return start


def _add_price_adjustment(new: Agreement, *, service, amount: Decimal, currency: str) -> None:
    """Add ``amount`` a month to the new version's price-adjustment line for ``service``."""
    offering = price_adjustment_offering(service, currency)
    line = new.lines.filter(offering=offering).first() or AgreementLine(
        agreement=new, offering=offering, quantity=Decimal(1), unit_price=Decimal(0)
    )
    line.unit_price += amount
    line.description = PRICE_ADJUSTMENT_NAME
    if line.unit_price < 0:
        raise DomainError(
            f"a price reduction of {currency} {-amount} is more than the price "
            "adjustments on the contract: amend its lines instead",
            code="reduction_too_large",
        )
    save_validated(line)


def end_agreements_of(*, actor: User | None, customer: Customer, on) -> int:
    """Termination of a customer ends its current agreements at a date."""
    ended = 0
    for agreement in customer.agreements.exclude(status__in=["expired", "terminated"]):
        from_status = agreement.status
        agreement.status = AgreementStatus.TERMINATED
        if agreement.end_date is None or agreement.end_date > on:
            agreement.end_date = max(on, agreement.start_date)
        save_validated(agreement)
        AgreementEvent.objects.create(
            agreement=agreement,
            actor=actor,
            action="status",
            from_state=from_status,
            to_state="terminated",
            note=f"customer terminated; ends {agreement.end_date}",
        )
        ended += 1
    return ended
