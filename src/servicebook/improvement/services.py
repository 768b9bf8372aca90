"""Every write to the improvement register and service reviews: validated, permission-checked,
and recorded as an event row (who, when, from → to, why) for each workflow step (R13, R14).

Who takes part in a plan is the customer's policy (``policy.py``): internal customers are
involved in the detail (members, comments, approval of the plan); external customers see expected
results and progress only, unless their relationship is flagged in difficulty and the provider
invites them into the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.core.services import apply_changes, describe_changes, require_role, save_validated
from servicebook.core.tenancy import customer_of
from servicebook.improvement import selectors
from servicebook.improvement.models import (
    DRIVER_LABELS,
    PLANNING_STATUSES,
    RETENTION_DRIVER,
    Action,
    Comment,
    Improvement,
    ImprovementEvent,
    ImprovementSource,
    ImprovementStatus,
    Participant,
    PlanApproval,
    ReviewStatus,
    ServiceReview,
)
from servicebook.improvement.workflows import IMPROVEMENT, SERVICE_REVIEW
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with
from servicebook.parties.authority import acting_contact
from servicebook.parties.models import Contact, Customer
from servicebook.parties.selectors import people_of
from servicebook.policy import policy_for

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


def may_edit(user) -> bool:
    """Whether the user may register and run improvement items and reviews: the one question
    the services (``require_role(…, *EDITORS)``), the pages and the links offered all ask."""
    return is_provider_staff(user) and has_role(user, *EDITORS)


#: Fields a service manager may change while the plan is still being made.
PLAN_FIELDS = (
    "title",
    "description",
    "driver",
    "objective",
    "expected_measure",
    "expected_direction",
    "baseline_value",
    "expected_value",
    "expected_by",
    "currency",
    "estimated_cost",
    "price_impact",
)
#: Fields that may change at any time before the item ends.
NOTE_FIELDS = ("internal_notes",)
#: Fields whose values never go into an event note (customers taking part read the history).
UNDISCLOSED_FIELDS = frozenset({"internal_notes", "estimated_cost"})


def _locked(item: Improvement) -> Improvement:
    return Improvement.objects.select_for_update().select_related("customer").get(pk=item.pk)


def _check_drivers(item: Improvement, customers: list[Customer]) -> None:
    """R14: the driver must be one every concerned customer's policy allows."""
    if not item.driver:
        return
    refusing = [c for c in customers if item.driver not in policy_for(c).improvement_drivers]
    if refusing:
        names = ", ".join(c.name for c in refusing)
        raise ValidationError(
            {
                "driver": f"“{DRIVER_LABELS.get(item.driver, item.driver)}” is not a driver "
                f"the policy of {names} allows: plan it separately"
            }
        )


def _set_concerned(item: Improvement, customers, services) -> None:
    concerned = {c.pk: c for c in customers or ()}
    concerned[item.customer_id] = item.customer
    _check_drivers(item, list(concerned.values()))
    if any(c.provider_id != item.customer.provider_id for c in concerned.values()):
        raise ValidationError({"customers": "all customers belong to the same provider"})
    item.customers.set(list(concerned.values()))
    if services is not None:
        item.services.set(list(services))


def _record_profitability(item: Improvement) -> None:
    """External (revenue) customers: the margin the finance reports show, for staff."""
    if not policy_for(item.customer).charge_is_revenue or item.customer_profitability is not None:
        return
    margin, period = selectors.profitability(item.customer)
    item.customer_profitability, item.profitability_period = margin, period if margin else ""


@transaction.atomic
def create_improvement(
    *,
    actor,
    customer: Customer,
    title: str,
    source: str,
    status: str = ImprovementStatus.PROPOSED,
    customers=(),
    services=(),
    agreement=None,
    **fields,
) -> Improvement:
    """Register an improvement: proposed with its driver and expected result, or a draft."""
    require_role(actor, *EDITORS, action="Registering an improvement")
    if status not in IMPROVEMENT.initial:
        raise ValidationError({"status": "a new item starts as a draft or proposed"})
    unknown = set(fields) - set(PLAN_FIELDS) - set(NOTE_FIELDS)
    if unknown:
        raise ValidationError({name: "unknown field" for name in sorted(unknown)})
    if not fields.get("currency") and (
        fields.get("estimated_cost") is not None or fields.get("price_impact") is not None
    ):
        fields["currency"] = customer.billing_currency
    item = Improvement(
        customer=customer,
        title=title,
        source=source,
        status=status,
        agreement=agreement,
        **fields,
    )
    _record_profitability(item)
    save_validated(item)
    _set_concerned(item, customers, services)
    IMPROVEMENT.record(item, actor, "created", to_state=item.status, reason=source)
    return item


@transaction.atomic
def update_improvement(
    *, actor, improvement: Improvement, customers=None, services=None, **changes
) -> Improvement:
    """Change the plan (while draft or proposed) or the internal notes (until it ends)."""
    require_role(actor, *EDITORS, action="Changing an improvement")
    item = _locked(improvement)
    if item.is_final:
        raise DomainError("a verified or dropped item no longer changes", code="final")
    unknown = set(changes) - set(PLAN_FIELDS) - set(NOTE_FIELDS)
    if unknown:
        raise ValidationError({name: "unknown field" for name in sorted(unknown)})
    plan_changes = [n for n in changes if n in PLAN_FIELDS and getattr(item, n) != changes[n]]
    touches_plan = plan_changes or customers is not None or services is not None
    if touches_plan and item.status not in PLANNING_STATUSES:
        raise DomainError(
            "the plan is approved: drop it and propose a new one to change it",
            code="plan_approved",
        )
    changed = apply_changes(item, changes)
    if changed:
        save_validated(item)
    if customers is not None or services is not None:
        before = sorted(item.customers.values_list("name", flat=True))
        _set_concerned(item, item.customers.all() if customers is None else customers, services)
        after = sorted(item.customers.values_list("name", flat=True))
        if before != after:
            changed["customers"] = (before, after)
        elif services is not None:
            changed["services"] = ("…", sorted(s.name for s in services))
    if changed:
        shown = {k: v for k, v in changed.items() if k not in UNDISCLOSED_FIELDS}
        hidden = "internal figures changed" if set(changed) & UNDISCLOSED_FIELDS else ""
        note = "; ".join(filter(None, [describe_changes(shown), hidden]))
        IMPROVEMENT.record(item, actor, "updated", note=note)
    return item


@transaction.atomic
def propose(*, actor, improvement: Improvement, note: str = "") -> Improvement:
    """draft → proposed: the plan states its driver and its measurable expected result."""
    require_role(actor, *EDITORS, action="Proposing an improvement")
    item = _locked(improvement)
    _check_drivers(item, selectors.concerned_customers(item))
    _record_profitability(item)
    IMPROVEMENT.move(item, ImprovementStatus.PROPOSED, actor=actor, action="proposed", note=note)
    return item


def refuse_approval(actor, improvement: Improvement) -> None:
    """Who may approve this plan, asked before anything else (the API asks it before reading
    the body): staff editors (alone, or recording a customer's approval), or a user of a
    customer the plan concerns. The rest (the contact, its authority, whether the customer
    takes part) is decided by ``approve_plan``."""
    what = "Approving an improvement plan"
    if actor is None or is_provider_staff(actor):
        require_role(actor, *EDITORS, action=what)
        return
    customer = customer_of(actor)
    concerned = {c.pk for c in selectors.concerned_customers(improvement)}
    if customer is None or customer.pk not in concerned:
        raise PermissionDenied(f"{what}: this plan does not concern you")


@transaction.atomic
def approve_plan(
    *, actor, improvement: Improvement, contact: Contact | None = None, note: str = ""
) -> Improvement:
    """A proposed plan is approved by the customers taking part in it.

    A customer user approves for its own customer (through its contact); provider staff record
    a customer's approval for the contact they name, or approve alone when no customer takes
    part in the plan (an external customer not in difficulty sees expected results only). The
    plan becomes approved once every customer taking part has approved it.
    """
    item = _locked(improvement)
    IMPROVEMENT.check(item, ImprovementStatus.APPROVED)
    needed = selectors.approvers_needed(item)
    staff = actor is None or is_provider_staff(actor)
    if staff and contact is None:
        require_role(actor, *EDITORS, action="Approving an improvement plan")
        missing = selectors.missing_approvals(item)
        if missing:
            names = ", ".join(c.name for c in missing)
            raise DomainError(
                f"{names} take{'s' if len(missing) == 1 else ''} part in this plan and must "
                "approve it first",
                code="customer_approval_required",
            )
        IMPROVEMENT.move(
            item, ImprovementStatus.APPROVED, actor=actor, action="approved", note=note
        )
        return item
    customer = contact.customer if staff else customer_of(actor)
    if customer is None or customer.pk not in {c.pk for c in selectors.concerned_customers(item)}:
        raise PermissionDenied("Approving an improvement plan: this plan does not concern you")
    customer = Customer.objects.get(pk=customer.pk)
    contact = acting_contact(
        actor, customer, contact, staff_roles=EDITORS, action="Approving an improvement plan"
    )
    if customer.pk not in {c.pk for c in needed}:
        raise DomainError(
            f"{customer.name} sees the expected results of this plan only and does not approve it",
            code="not_involved",
        )
    if PlanApproval.objects.filter(improvement=item, customer=customer).exists():
        raise DomainError(f"{customer.name} already approved this plan", code="already_approved")
    PlanApproval.objects.create(
        improvement=item, customer=customer, contact=contact, actor=actor, note=note[:300]
    )
    IMPROVEMENT.record(
        item, actor, "customer_approved", reason=customer.code, note=f"{contact.name} {note}"
    )
    if not selectors.missing_approvals(item):
        IMPROVEMENT.move(
            item,
            ImprovementStatus.APPROVED,
            actor=actor,
            action="approved",
            note="every customer taking part approved the plan",
        )
    return item


@transaction.atomic
def start(*, actor, improvement: Improvement, note: str = "") -> Improvement:
    """approved → in progress."""
    require_role(actor, *EDITORS, action="Starting an improvement")
    item = _locked(improvement)
    IMPROVEMENT.move(item, ImprovementStatus.IN_PROGRESS, actor=actor, action="started", note=note)
    return item


@transaction.atomic
def complete(*, actor, improvement: Improvement, note: str = "") -> Improvement:
    """in progress → done, once every action is done."""
    require_role(actor, *EDITORS, action="Completing an improvement")
    item = _locked(improvement)
    IMPROVEMENT.check(item, ImprovementStatus.DONE)
    open_actions = item.actions.filter(done=False).count()
    if open_actions:
        raise DomainError(
            f"{open_actions} action(s) are still open: finish or remove them first",
            code="open_actions",
        )
    IMPROVEMENT.move(item, ImprovementStatus.DONE, actor=actor, action="done", note=note)
    return item


@transaction.atomic
def verify(
    *,
    actor,
    improvement: Improvement,
    measured_value: Decimal,
    measured_on: dt.date | None = None,
    note: str = "",
) -> Improvement:
    """done → verified: the result measured after the fact, compared with the expectation."""
    require_role(actor, *EDITORS, action="Verifying an improvement")
    item = _locked(improvement)
    IMPROVEMENT.check(item, ImprovementStatus.VERIFIED)
    if measured_value is None:
        raise ValidationError({"measured_value": "give the measured result"})
    item.measured_value = measured_value
    item.measured_on = measured_on or timezone.localdate()
    item.result_note = note
    verdict = "met" if item.result_met else "missed"
    IMPROVEMENT.move(
        item,
        ImprovementStatus.VERIFIED,
        actor=actor,
        action="verified",
        reason=verdict,
        note=f"measured {measured_value} against {item.expected_value} expected: {verdict}. "
        f"{note}".strip(),
    )
    return item


@transaction.atomic
def drop(*, actor, improvement: Improvement, reason: str) -> Improvement:
    """Any open item may be dropped, with why."""
    require_role(actor, *EDITORS, action="Dropping an improvement")
    if not (reason or "").strip():
        raise ValidationError({"reason": "say why the item is dropped"})
    item = _locked(improvement)
    IMPROVEMENT.move(item, ImprovementStatus.DROPPED, actor=actor, action="dropped", note=reason)
    return item


# --- involvement --------------------------------------------------------------------------------


@transaction.atomic
def add_participant(
    *, actor, improvement: Improvement, contact: Contact, note: str = ""
) -> Participant:
    """A customer's contact joins the plan.

    Internal customers' contacts are members as of right. An external customer's contact may be
    invited only while its relationship is flagged in difficulty: the invitation is recorded as
    such and opens the plan's detail to that customer.
    """
    require_role(actor, *EDITORS, action="Adding a participant to an improvement plan")
    item = _locked(improvement)
    if item.is_final:
        raise DomainError("the plan has ended", code="final")
    customer = Customer.objects.get(pk=contact.customer_id)
    if customer.pk not in {c.pk for c in selectors.concerned_customers(item)}:
        raise DomainError(f"{customer.name} is not concerned by this improvement", field="contact")
    if not contact.active:
        raise DomainError(f"{contact.name} is no longer an active contact", field="contact")
    policy = policy_for(customer)
    if policy.involved_in_improvement_detail:
        invited = False
    elif selectors.may_be_invited(customer):
        invited = True
    else:
        raise DomainError(
            f"{customer.name} sees the expected results and progress of improvements only; "
            "it can be invited into a plan while its relationship is flagged in difficulty",
            code="not_in_difficulty",
            field="contact",
        )
    if Participant.objects.filter(improvement=item, contact=contact).exists():
        raise DomainError(f"{contact.name} already takes part", code="already_participant")
    participant = Participant(
        improvement=item, contact=contact, invited=invited, note=note[:300], added_by=actor
    )
    save_validated(participant)
    IMPROVEMENT.record(
        item,
        actor,
        "invited" if invited else "member_added",
        reason="in_difficulty" if invited else "",
        note=f"{contact.name} ({customer.name}) {note}".strip(),
    )
    return participant


# --- actions ------------------------------------------------------------------------------------


@transaction.atomic
def add_action(
    *,
    actor,
    improvement: Improvement,
    description: str,
    owner_user=None,
    owner_contact: Contact | None = None,
    due: dt.date | None = None,
) -> Action:
    """An action of the plan with its owner: a provider user, or a contact of a customer that
    takes part in the plan."""
    require_role(actor, *EDITORS, action="Adding an improvement action")
    item = _locked(improvement)
    if item.status in (ImprovementStatus.DONE, ImprovementStatus.VERIFIED, "dropped"):
        raise DomainError("the plan is finished: no new action", code="final")
    if owner_user is not None and not is_provider_staff(owner_user):
        raise ValidationError({"owner_user": "a provider user; customer people own as contacts"})
    if owner_contact is not None:
        customer = Customer.objects.get(pk=owner_contact.customer_id)
        if customer.pk not in {c.pk for c in selectors.concerned_customers(item)}:
            raise DomainError(f"{customer.name} is not concerned", field="owner_contact")
        if not selectors.takes_part(customer, item):
            raise DomainError(
                f"{customer.name} does not take part in the detail of this plan",
                code="not_involved",
                field="owner_contact",
            )
    action = Action(
        improvement=item,
        description=description,
        owner_user=owner_user,
        owner_contact=owner_contact,
        due=due,
    )
    save_validated(action)
    IMPROVEMENT.record(item, actor, "action_added", note=f"{description} — {action.owner_name}")
    owner = owner_user or (owner_contact.user if owner_contact is not None else None)
    notify(
        kind=Kind.IMPROVEMENT_ACTION,
        recipients=[owner] if owner is not None and owner != actor else [],
        message=Message(
            f"An improvement action is yours: {description}"[:200],
            f"Plan: {item.title}." + (f" Due {due:%d %b %Y}." if due else ""),
            reverse("improvement:detail", args=[item.pk]),
        ),
    )
    return action


def may_work_on(actor, item: Improvement, *, action: str) -> None:
    """Staff editors, or a user of a customer taking part in the plan."""
    if actor is None or is_provider_staff(actor):
        require_role(actor, *EDITORS, action=action)
        return
    seen = selectors.viewer(actor)
    concerned = {c.pk for c in selectors.concerned_customers(item)}
    if seen.customer is None or seen.customer.pk not in concerned:
        raise PermissionDenied(f"{action}: this plan does not concern you")
    if seen.level(item) != selectors.DETAIL:
        raise PermissionDenied(
            f"{action}: your organization sees the expected results of this plan only"
        )


def refuse_completing(actor, action: Action) -> None:
    """Who may mark an action done: staff editors, or the customer user who owns it in a plan
    its customer takes part in (asked before the body is read too)."""
    if actor is not None and not is_provider_staff(actor):
        may_work_on(actor, action.improvement, action="Completing an action")
        own = Contact.objects.filter(user=actor).first()
        if own is None or own.pk != action.owner_contact_id:
            raise PermissionDenied("Completing an action: only its owner or the provider may")
    else:
        require_role(actor, *EDITORS, action="Completing an action")


@transaction.atomic
def complete_action(*, actor, action: Action, note: str = "") -> Action:
    """Mark an action done: staff, or the customer user who owns it."""
    action = Action.objects.select_for_update().select_related("improvement").get(pk=action.pk)
    item = action.improvement
    refuse_completing(actor, action)
    if item.is_final:
        raise DomainError("the plan has ended", code="final")
    if action.done:
        raise DomainError("the action is already done", code="already_done")
    action.done, action.done_at = True, timezone.now()
    save_validated(action)
    IMPROVEMENT.record(item, actor, "action_done", note=f"{action.description} {note}".strip())
    return action


@transaction.atomic
def comment_on_action(*, actor, action: Action, body: str) -> Comment:
    """Staff and customers taking part in the plan comment on its actions."""
    action = Action.objects.select_related("improvement__customer").get(pk=action.pk)
    may_work_on(actor, action.improvement, action="Commenting on an action")
    if not (body or "").strip():
        raise ValidationError({"body": "write the comment"})
    comment = Comment(action=action, author=actor, body=body.strip())
    save_validated(comment)
    IMPROVEMENT.record(action.improvement, actor, "commented", note=f"on “{action.description}”")
    return comment


# --- automatic items ----------------------------------------------------------------------------


@transaction.atomic
def propose_from_breach(
    *, target, period: str, attainment: Decimal | None, breaching_tickets_count: int
) -> Improvement:
    """The draft improvement item for a missed target of an internal agreement.

    Idempotent: one item per (target, period), however often the breach is recomputed; an
    existing item is returned unchanged. (One breach of :func:`propose_from_breaches`.)
    """
    breach = {
        "target": target,
        "period": period,
        "attainment": attainment,
        "breaching_tickets_count": breaching_tickets_count,
    }
    return propose_from_breaches(breaches=[breach])[0]


#: The item fields a breach draft's validation leaves to the batch: the foreign keys name rows
#: the caller read (``full_clean`` would ask the database that each exists).
_BREACH_KNOWN_ROWS = ("customer", "agreement", "target")


@transaction.atomic
def propose_from_breaches(*, breaches: Sequence[Mapping[str, Any]]) -> list[Improvement]:
    """The draft improvement items for missed targets of internal agreements, one per breach
    (a mapping of :func:`propose_from_breach`'s keywords), in order.

    The same items, events and notifications as proposing each breach in turn, written in bulk:
    one query finds the items that exist (returned unchanged), the new ones are validated in
    Python -- ``full_clean`` but the database checks: their foreign keys are rows at hand, and
    the one constraint a breach draft can break, one item per (target, period), is that query
    -- and inserted together, with their concerned customers, services and "raised" events.
    Should one be created concurrently, the breaches are proposed one at a time.
    """
    items = _breach_items(breaches)
    new: dict[tuple[int, str], tuple[Improvement, str]] = {}  # key → (draft, measured)
    for breach in breaches:
        key = (breach["target"].pk, breach["period"])
        if key not in items and key not in new:
            new[key] = (_breach_draft(**breach), _measured(breach["attainment"]))
    if new:
        try:
            with transaction.atomic():
                Improvement.objects.bulk_create([item for item, _ in new.values()])
        except IntegrityError:  # created concurrently: return that one
            if len(breaches) > 1:
                return [propose_from_breaches(breaches=[breach])[0] for breach in breaches]
            target, period = breaches[0]["target"], breaches[0]["period"]
            return [Improvement.objects.get(source=_BREACH, target=target, period=period)]
        _raised(list(new.values()))
        items.update((key, item) for key, (item, _) in new.items())
    return [items[(b["target"].pk, b["period"])] for b in breaches]


_BREACH = ImprovementSource.SERVICE_LEVEL_BREACH


def _breach_items(breaches) -> dict[tuple[int, str], Improvement]:
    """The breach items that exist for the breaches' (target, period)s (one query)."""
    wanted = {(b["target"].pk, b["period"]) for b in breaches}
    found = Improvement.objects.filter(
        source=_BREACH,
        target__in={pk for pk, _ in wanted},
        period__in={period for _, period in wanted},
    )
    return {key: item for item in found if (key := (item.target_id, item.period)) in wanted}


def _breach_draft(
    *, target, period: str, attainment: Decimal | None, breaching_tickets_count: int
) -> Improvement:
    """The unsaved draft for one breach, validated as ``save_validated`` would (see above)."""
    agreement = target.agreement
    item = Improvement(
        title=f"{agreement.reference} {period}: {target} missed",
        customer=agreement.customer,
        agreement=agreement,
        target=target,
        period=period,
        source=_BREACH,
        status=ImprovementStatus.DRAFT,
        description=(
            f"In {period} the target “{target}” attained {_measured(attainment)} "
            f"(target {target.attainment_percent}%); {breaching_tickets_count} ticket(s) "
            "breached. Find the cause with the customer and agree an improvement action."
        ),
    )
    item.full_clean(exclude=_BREACH_KNOWN_ROWS, validate_unique=False, validate_constraints=False)
    return item


def _measured(attainment: Decimal | None) -> str:
    return "no measurement" if attainment is None else f"{attainment}%"


def _raised(new: list[tuple[Improvement, str]]) -> None:
    """What follows new breach items (with the attainment they measured, as text): their
    customer and services, a "raised" event each, and the service managers and the customer's
    approvers told (recipients and the link found once)."""
    items = [item for item, _ in new]
    services: dict[int, list[int]] = {}  # agreement → the services of its lines
    recipients: dict[int, list] = {}  # agreement → whom to tell
    for agreement in {item.agreement_id: item.agreement for item in items}.values():
        lines = agreement.lines.values_list("offering__service", flat=True)
        services[agreement.pk] = sorted(set(lines))
        recipients[agreement.pk] = [
            *staff_with(Role.SERVICE_MANAGER),
            *people_of(agreement.customer, approvers=True),
        ]
    Improvement.customers.through.objects.bulk_create(
        Improvement.customers.through(improvement_id=item.pk, customer_id=item.customer_id)
        for item in items
    )
    Improvement.services.through.objects.bulk_create(
        Improvement.services.through(improvement_id=item.pk, service_id=service)
        for item in items
        for service in (
            [item.target.service_id] if item.target.service_id else services[item.agreement_id]
        )
    )
    ImprovementEvent.objects.bulk_create(
        ImprovementEvent(
            improvement=item,
            action="raised",
            to_state=item.status,
            reason="service_level_breach",
            note=f"{item.target} in {item.period}",
        )
        for item in items
    )
    link = _link_to_item()
    for item, measured in new:
        target, agreement = item.target, item.agreement
        notify(
            kind=Kind.BREACH,
            recipients=recipients[agreement.pk],
            message=Message(
                f"Target missed on {agreement.reference} in {item.period}: {target}"[:200],
                f"Measured {measured} against {target.attainment_percent}%; "
                "an improvement item was raised to find the cause together.",
                link(item.pk),
            ),
        )


def _link_to_item():
    """``pk → the item's page``: the URL reversed once, then formatted for each item."""
    head, found, tail = reverse("improvement:detail", args=[_SOME_PK]).partition(str(_SOME_PK))
    if not found:  # pragma: no cover - a URL that does not show the key as it is
        return lambda pk: reverse("improvement:detail", args=[pk])
    return lambda pk: f"{head}{pk}{tail}"


_SOME_PK = 918273645  # a number no other part of the item's URL holds


@transaction.atomic
def propose_retention_improvements(*, actor=None, period: str | None = None) -> list[Improvement]:
    """Repeated contract breaches propose a retention improvement.

    For every contract missed in at least two of the three months ending with ``period`` (by
    default the current month), a draft item with the retention driver, unless the contract
    already has an open retention item. Idempotent: running it again creates nothing new.
    """
    require_role(actor, *EDITORS, action="Proposing retention improvements")
    period = period or selectors.current_period()
    created = []
    for row in selectors.repeated_contract_breaches(period):
        agreement = row["agreement"]
        customer = agreement.customer
        if RETENTION_DRIVER not in policy_for(customer).improvement_drivers:
            continue
        open_item = Improvement.objects.filter(
            agreement=agreement,
            driver=RETENTION_DRIVER,
            status__in=selectors.OPEN_STATUSES,
        ).exists()
        if (
            open_item
            or Improvement.objects.filter(
                agreement=agreement,
                source=ImprovementSource.SERVICE_LEVEL_BREACH,
                target__isnull=True,
                period=period,
            ).exists()
        ):
            continue
        months = ", ".join(row["months"])
        item = Improvement(
            title=f"Retain {customer.name}: {agreement.reference} breached in {months}",
            customer=customer,
            agreement=agreement,
            period=period,
            source=ImprovementSource.SERVICE_LEVEL_BREACH,
            status=ImprovementStatus.DRAFT,
            driver=RETENTION_DRIVER,
            description=(
                f"The contract {agreement.reference} missed its targets in {months}: service "
                "credits compensate the customer but do not keep it. Agree with the account "
                "what to improve to retain this customer, and at what price impact."
            ),
        )
        _record_profitability(item)
        try:
            with transaction.atomic():
                save_validated(item)
        except IntegrityError:
            continue
        item.customers.add(customer)
        item.services.set(
            list({line.offering.service for line in agreement.lines.select_related("offering")})
        )
        IMPROVEMENT.record(
            item, actor, "raised", to_state=item.status, reason="repeated_breaches", note=months
        )
        created.append(item)
    return created


# --- service reviews ----------------------------------------------------------------------------


@transaction.atomic
def prepare_review(
    *, actor, customer: Customer, period: str, meeting_on: dt.date | None = None
) -> ServiceReview:
    """Prepare the service review of ``period`` with ``customer`` (its pack is built live)."""
    require_role(actor, *EDITORS, action="Preparing a service review")
    if ServiceReview.objects.filter(customer=customer, period=period).exists():
        raise DomainError(
            f"the {period} review with {customer.name} is already prepared",
            code="already_prepared",
            field="period",
        )
    review = ServiceReview(customer=customer, period=period, meeting_on=meeting_on)
    review.prepared_by = actor
    save_validated(review)
    SERVICE_REVIEW.record(review, actor, "prepared", to_state=review.status)
    return review


@transaction.atomic
def record_review_held(
    *, actor, review: ServiceReview, meeting_on: dt.date, minutes: str
) -> ServiceReview:
    """The review meeting took place: its date and minutes (decisions, new improvements)."""
    require_role(actor, *EDITORS, action="Recording a service review")
    review = ServiceReview.objects.select_for_update().select_related("customer").get(pk=review.pk)
    SERVICE_REVIEW.check(review, ReviewStatus.HELD)
    if not (minutes or "").strip():
        raise ValidationError({"minutes": "write the minutes of the meeting"})
    review.meeting_on, review.minutes = meeting_on, minutes
    SERVICE_REVIEW.move(
        review, ReviewStatus.HELD, actor=actor, action="held", note=f"{meeting_on:%Y-%m-%d}"
    )
    return review
