"""At-risk warnings: a ticket whose SLA clock has used 75% of its target warns the owner of its
assignment group, once per ticket and target (``servicebook levels alerts``, run by cron or the
worker every few minutes)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from servicebook.agreements.models import Agreement
from servicebook.core.roles import Role
from servicebook.levels.clock import from_epoch
from servicebook.levels.measure import measure_time_targets
from servicebook.levels.models import AssignmentGroup, Ticket, TicketAlert
from servicebook.levels.selectors import load_tickets, targets_of, time_targets
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify, staff_with

#: The share of a target's time after which the owner is warned.
AT_RISK_SHARE = 0.75


def _owners(group_names: set[str]) -> dict[str, object]:
    groups = AssignmentGroup.objects.filter(name__in=group_names, owner__isnull=False)
    return {group.name: group.owner for group in groups.select_related("owner")}


def _at_risk(agreement, as_of: int) -> list[tuple[int, object, int, int]]:
    """(ticket id, target, elapsed, threshold) of the agreement's open tickets past the share
    and not yet answered / resolved."""
    targets = [t for t in targets_of(agreement) if t.threshold_minutes]
    if not targets:
        return []
    ids, arrays = load_tickets(Ticket.objects.filter(agreement=agreement, resolved_at=None))
    if not ids.size:
        return []
    calendars = {t.calendar_id: t.calendar.to_engine() for t in targets}
    results = measure_time_targets(
        arrays, time_targets(targets, calendars), agreement.pause_states, as_of
    )
    found = []
    for target in targets:
        result = results.get(target.pk)
        if result is None:
            continue
        limit = int(target.threshold_minutes) * 60
        for position, index in enumerate(result.index.tolist()):
            if result.done[position] or result.elapsed[position] < AT_RISK_SHARE * limit:
                continue
            found.append((int(ids[index]), target, int(result.elapsed[position]), limit))
    return found


def warn_at_risk(*, as_of=None) -> dict[str, int]:
    """Warn, once, about every open ticket past 75% of a target; returns the counts."""
    moment = as_of or timezone.now()
    epoch = int(moment.timestamp())
    warned = checked = 0
    agreement_ids = set(
        Ticket.objects.filter(resolved_at=None).values_list("agreement_id", flat=True)
    )
    for agreement in Agreement.objects.filter(pk__in=agreement_ids):
        risky = _at_risk(agreement, epoch)
        checked += len(risky)
        sent = set(
            TicketAlert.objects.filter(
                ticket_id__in=[row[0] for row in risky], kind="at_risk"
            ).values_list("ticket_id", "target_id")
        )
        fresh = [row for row in risky if (row[0], row[1].pk) not in sent]
        tickets = Ticket.objects.in_bulk([row[0] for row in fresh])
        owners = _owners({ticket.assignment_group for ticket in tickets.values()})
        for ticket_id, target, elapsed, limit in fresh:
            warned += _warn(tickets[ticket_id], target, elapsed, limit, owners, epoch)
    return {"checked": checked, "warned": warned}


def _warn(ticket, target, elapsed: int, limit: int, owners: dict, epoch: int) -> int:
    owner = owners.get(ticket.assignment_group)
    recipients = [owner] if owner is not None else list(staff_with(Role.SERVICE_MANAGER))
    group = ticket.assignment_group or "no assignment group"
    share = round(100 * elapsed / limit) if limit else 100
    message = Message(
        f"Ticket {ticket.number} has used {share}% of its {target.get_metric_display().lower()} "
        "target",
        f"{ticket.short_description}\nGroup: {group}. Target: {target}. "
        f"Checked at {from_epoch(epoch):%d %b %Y %H:%M} UTC.",
        reverse("levels:ticket", args=[ticket.pk]),
    )
    try:
        with transaction.atomic():
            TicketAlert.objects.create(ticket=ticket, target=target, kind="at_risk")
            notify(kind=Kind.TICKET_AT_RISK, recipients=recipients, message=message)
    except IntegrityError:  # another run warned first
        return 0
    return 1
