"""Customer self-service of tickets (issue 15): raise, comment, move, close.

A customer user raises an incident or a service request against one of its customer's active
agreements. The ticket is an ordinary :class:`~servicebook.levels.models.Ticket` (channel
``portal``) with a state history like an imported one, so the SLA clock, the attainment and the
credits treat it exactly as an imported ticket: every state change appends a
:class:`TicketStateChange` row and recomputes the agreement through
:func:`servicebook.levels.services.recompute_attainment`, the one clock path.

States follow the helpdesk's names the clock already knows: ``New`` (the response clock runs until
the ticket leaves it), ``In Progress``, ``Awaiting User Info`` (a default pause state of every
agreement: the provider waits for the customer), ``Resolved`` and ``Closed``. The transitions are
one table (:data:`TRANSITIONS`), refused through :func:`servicebook.core.workflow.check_table`
with the code ``invalid_transition``; each step a person takes writes a :class:`TicketEvent`.
Imported tickets belong to the helpdesk that exported them: they are read here, never moved.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.core.services import save_validated
from servicebook.core.tenancy import customer_of
from servicebook.core.workflow import INVALID_TRANSITION, STATE_FIELD, check_table
from servicebook.levels.jobs import recompute_later
from servicebook.levels.models import (
    RESOLVED_STATES,
    Ticket,
    TicketChannel,
    TicketComment,
    TicketEvent,
    TicketKind,
    TicketStateChange,
)
from servicebook.levels.selectors import priority_matrix
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with
from servicebook.parties.selectors import people_of

NEW = "New"
IN_PROGRESS = "In Progress"
AWAITING_CUSTOMER = "Awaiting User Info"
RESOLVED = "Resolved"
CLOSED = "Closed"
STATES = (NEW, IN_PROGRESS, AWAITING_CUSTOMER, RESOLVED, CLOSED)
#: which state may follow which (``Closed`` is final; a resolved ticket may be reopened)
TRANSITIONS: dict[str, set[str]] = {
    NEW: {IN_PROGRESS, AWAITING_CUSTOMER, RESOLVED, CLOSED},
    IN_PROGRESS: {AWAITING_CUSTOMER, RESOLVED, CLOSED},
    AWAITING_CUSTOMER: {IN_PROGRESS, RESOLVED, CLOSED},
    RESOLVED: {IN_PROGRESS, CLOSED},
    CLOSED: set(),
}
#: provider staff who work portal tickets (move them, write internal notes)
HANDLERS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)
MAX_SUMMARY = 200
MAX_TEXT = 10_000


# --- who may do what -----------------------------------------------------------------------------


def is_handler(user) -> bool:
    return is_provider_staff(user) and has_role(user, *HANDLERS)


def may_raise(user) -> bool:
    """Customer users and provider handlers raise and work tickets; other staff do not."""
    return customer_of(user) is not None or is_handler(user)


def _require_party(actor, agreement: Agreement, *, action: str) -> None:
    """A customer user of the agreement's customer, or a provider handler."""
    if actor is None or is_handler(actor):
        return
    own = customer_of(actor)
    if own is None or own.pk != agreement.customer_id:
        raise PermissionDenied(
            f"{action} needs one of these roles: "
            + ", ".join(HANDLERS)
            + " (or a user of the agreement's customer)"
        )


def _require_portal(ticket: Ticket, *, doing: str) -> None:
    if ticket.channel != TicketChannel.PORTAL:
        raise DomainError(
            f"ticket {ticket.number} was imported from {ticket.source}: it is worked there, "
            f"so it cannot {doing} here",
            code="imported_ticket",
        )


# --- raising -------------------------------------------------------------------------------------


def _checked_text(value, *, field: str, limit: int, what: str) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise DomainError(f"{what} is required", code="required", field=field)
    if len(text) > limit:
        raise DomainError(
            f"{what} has {len(text):,} characters; at most {limit:,}", code="too_long", field=field
        )
    return text


def _priority(agreement: Agreement, impact, urgency) -> int:
    cells = dict(priority_matrix(agreement).cells)
    impacts = sorted({i for i, _ in cells})
    urgencies = sorted({u for _, u in cells})
    for name, value, allowed in (("impact", impact, impacts), ("urgency", urgency, urgencies)):
        if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
            raise DomainError(
                f"{name} must be one of {', '.join(map(str, allowed))} (1 is the highest), "
                f"not {value!r}",
                code="invalid",
                field=name,
            )
    return int(cells[(impact, urgency)])


@transaction.atomic
def raise_ticket(
    *,
    actor,
    agreement: Agreement,
    kind: str,
    short_description: str,
    description: str = "",
    impact: int,
    urgency: int,
    at: datetime | None = None,
) -> Ticket:
    """A customer's incident or service request on its active agreement, opened now.

    Priority is impact × urgency through the agreement's priority matrix; the ticket starts
    ``New`` with one history row, the description becomes its first comment, and the agreement's
    attainment is recomputed (the new ticket is measured like an imported one).
    """
    _require_party(actor, agreement, action="Raising a ticket")
    if kind not in TicketKind.values:
        raise DomainError(
            f"kind must be incident or request, not {kind!r}", code="invalid", field="kind"
        )
    summary = _checked_text(
        short_description, field="short_description", limit=MAX_SUMMARY, what="the summary"
    )
    if any(mark in summary for mark in "\r\n\x00"):
        raise DomainError(
            "the summary is one line: put the details in the description",
            code="invalid",
            field="short_description",
        )
    details = (description or "").strip()
    if len(details) > MAX_TEXT:
        raise DomainError(
            f"the description has {len(details):,} characters; at most {MAX_TEXT:,}",
            code="too_long",
            field="description",
        )
    agreement = Agreement.objects.select_related("customer").get(pk=agreement.pk)
    opened = at or timezone.now()
    if agreement.status != AgreementStatus.ACTIVE or not _in_force(agreement, opened):
        raise DomainError(
            f"{agreement.reference} is not an agreement in force: tickets are raised against an "
            "active agreement",
            code="agreement_not_active",
            field="agreement",
        )
    priority = _priority(agreement, impact, urgency)
    ticket = Ticket(
        agreement=agreement,
        source=TicketChannel.PORTAL,
        number=f"tmp-{uuid.uuid4().hex}",
        kind=kind,
        short_description=summary,
        state=NEW,
        active=True,
        impact=impact,
        urgency=urgency,
        priority=priority,
        contact_type="self-service",
        caller=_display_name(actor),
        opened_at=opened,
        channel=TicketChannel.PORTAL,
        raised_by=actor,
    )
    save_validated(ticket)
    ticket.number = f"SS{ticket.pk:07d}"
    ticket.save(update_fields=["number"])
    TicketStateChange.objects.create(ticket=ticket, sequence=1, at=opened, state=NEW)
    if details and actor is not None:
        TicketComment.objects.create(ticket=ticket, author=actor, text=details)
    TicketEvent.objects.create(
        ticket=ticket, actor=actor, action="raised", to_state=NEW, note=summary
    )
    _recompute(ticket, "ticket raised in the portal")
    _tell_raised(ticket)
    return ticket


def _tell_raised(ticket: Ticket) -> None:
    """The provider's service managers take it up; the customer's approvers follow it."""
    people = [
        *staff_with(Role.SERVICE_MANAGER),
        *people_of(ticket.agreement.customer, approvers=True).exclude(pk=ticket.raised_by_id),
    ]
    notify(
        kind=Kind.TICKET,
        recipients=people,
        message=Message(
            f"New {ticket.get_kind_display().lower()} {ticket.number}: {ticket.short_description}",
            f"Raised by {ticket.caller} on {ticket.agreement.reference}, "
            f"priority {ticket.priority}.",
            reverse("levels:portal-ticket", args=[ticket.pk]),
        ),
    )


def _in_force(agreement: Agreement, moment: datetime) -> bool:
    day = timezone.localdate(moment)
    return agreement.start_date <= day and (agreement.end_date is None or day <= agreement.end_date)


def _display_name(user) -> str:
    if user is None:
        return ""
    return (user.get_full_name() or user.get_username())[:100]


def _recompute(ticket: Ticket, reason: str) -> None:
    """Reads never write, and writes stay light: the agreement's attainment is recomputed by a
    background job queued when this change commits (one at a time)."""
    recompute_later(agreement=ticket.agreement)


# --- comments and steps --------------------------------------------------------------------------


@transaction.atomic
def comment_on_ticket(*, actor, ticket: Ticket, text: str, internal: bool = False) -> TicketComment:
    """A message on a portal ticket. A customer's reply to a ticket awaiting it puts the ticket
    back in progress (the pause ends); ``internal`` notes are for provider handlers only."""
    ticket = Ticket.objects.select_for_update().select_related("agreement").get(pk=ticket.pk)
    _require_party(actor, ticket.agreement, action="Commenting on a ticket")
    _require_portal(ticket, doing="get comments")
    if internal and not is_handler(actor):
        raise PermissionDenied(
            "Writing an internal note needs one of these roles: " + ", ".join(HANDLERS)
        )
    body = _checked_text(text, field="text", limit=MAX_TEXT, what="the comment")
    if ticket.state == CLOSED:
        raise DomainError(
            f"the ticket {ticket.number} is closed: cannot get comments; raise a new ticket",
            code=INVALID_TRANSITION,
            field=STATE_FIELD,
        )
    comment = TicketComment.objects.create(
        ticket=ticket, author=actor, text=body, internal=internal
    )
    if not is_provider_staff(actor) and ticket.state == AWAITING_CUSTOMER:
        _step(ticket, IN_PROGRESS, actor=actor, note="the customer replied")
    return comment


@transaction.atomic
def move_ticket(*, actor, ticket: Ticket, to_state: str, note: str = "") -> Ticket:
    """A provider handler moves a portal ticket (take it, ask the customer, resolve, reopen)."""
    if not is_handler(actor) and actor is not None:
        raise PermissionDenied("Moving a ticket needs one of these roles: " + ", ".join(HANDLERS))
    ticket = Ticket.objects.select_for_update().select_related("agreement").get(pk=ticket.pk)
    _require_portal(ticket, doing="change state")
    _step(ticket, to_state, actor=actor, note=note)
    return ticket


@transaction.atomic
def close_ticket(*, actor, ticket: Ticket, note: str = "") -> Ticket:
    """The customer (or a handler) closes a portal ticket: the resolution clock stops."""
    ticket = Ticket.objects.select_for_update().select_related("agreement").get(pk=ticket.pk)
    _require_party(actor, ticket.agreement, action="Closing a ticket")
    _require_portal(ticket, doing="be closed")
    _step(ticket, CLOSED, actor=actor, note=note or "closed by the customer")
    return ticket


def _step(ticket: Ticket, to_state: str, *, actor, note: str) -> None:
    """One checked step: the history row the clock reads, the ticket's fields, the event."""
    from_state = ticket.state
    check_table("ticket", from_state, to_state, TRANSITIONS, name=ticket.number)
    now = timezone.now()
    last = ticket.history.aggregate(seq=Max("sequence"), at=Max("at"))
    at = max(now, last["at"] or now)
    TicketStateChange.objects.create(
        ticket=ticket, sequence=(last["seq"] or 0) + 1, at=at, state=to_state
    )
    was_resolved, resolved = from_state in RESOLVED_STATES, to_state in RESOLVED_STATES
    if resolved and not was_resolved:
        ticket.resolved_at = at
    elif was_resolved and not resolved:
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.reopen_count += 1
    if to_state == CLOSED:
        ticket.closed_at = at
    ticket.state = to_state
    ticket.active = not resolved
    save_validated(ticket)
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        action="closed" if to_state == CLOSED else "state",
        from_state=from_state,
        to_state=to_state,
        note=(note or "")[:2000],
    )
    _recompute(ticket, f"ticket {ticket.number}: {from_state} → {to_state}")


def allowed_steps(ticket: Ticket, user) -> list[str]:
    """The states ``user`` may move ``ticket`` to now (for buttons): handlers any next state,
    the customer only ``Closed``."""
    if ticket.channel != TicketChannel.PORTAL:
        return []
    nexts = [state for state in STATES if state in TRANSITIONS[ticket.state]]
    if is_handler(user):
        return nexts
    own = customer_of(user)
    if own is not None and own.pk == ticket.agreement.customer_id and CLOSED in nexts:
        return [CLOSED]
    return []
