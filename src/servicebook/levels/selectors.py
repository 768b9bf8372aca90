"""Reads of the service levels app: measurement input, fingerprints, credits, ticket clocks."""

from __future__ import annotations

import hashlib
import json
from array import array
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection
from django.db.models import BigIntegerField, Count, F, Func, Max, Q
from django.utils import timezone

from servicebook.agreements.models import Agreement, Metric, ServiceLevelTarget
from servicebook.levels.clock import (
    DEFAULT_PRIORITY_MATRIX,
    Calendar,
    PriorityMatrix,
    from_epoch,
    month_label,
)
from servicebook.levels.measure import (
    RESOLUTION,
    RESOLVED_STATES,
    RESPONSE,
    OutageArrays,
    TicketArrays,
    TimeTarget,
    measure_time_targets,
)
from servicebook.levels.models import (
    Attainment,
    Credit,
    CreditStatus,
    Outage,
    PriorityMatrixSetting,
    Ticket,
    TicketStateChange,
)


def epoch(moment: datetime | None) -> int:
    return -1 if moment is None else int(moment.timestamp())


def now_epoch() -> int:
    return int(timezone.now().timestamp())


def priority_matrix(agreement: Agreement) -> PriorityMatrix:
    """The agreement's impact × urgency matrix (the usual 3 × 3 grid unless it has its own)."""
    setting = PriorityMatrixSetting.objects.filter(agreement=agreement).first()
    return DEFAULT_PRIORITY_MATRIX if setting is None else setting.to_engine()


def resolve_agreement(reference: str, agreements=None) -> Agreement | None:
    """The agreement a reference names: its active version, else its latest one."""
    queryset = (agreements if agreements is not None else Agreement.objects).filter(
        reference=reference
    )
    fields = [f.name for f in Agreement._meta.get_fields()]
    order = ["-version"] if "version" in fields else ["-pk"]
    return (
        queryset.filter(status="active").order_by(*order).first()
        or queryset.order_by(*order).first()
    )


def targets_of(agreement: Agreement) -> list[ServiceLevelTarget]:
    return list(
        agreement.targets.select_related("calendar", "service")
        .prefetch_related("credit_tiers")
        .order_by("metric", "priority", "pk")
    )


@dataclass
class MeasurementInput:
    """Everything an agreement's attainment is computed from (see :mod:`levels.measure`)."""

    agreement: Agreement
    targets: list[ServiceLevelTarget]
    calendars: dict[int, Calendar]
    ticket_ids: np.ndarray
    tickets: TicketArrays
    outages: dict[int, OutageArrays] = field(default_factory=dict)


class Epoch(Func):
    """A datetime column as whole UTC epoch seconds, computed by the database (no datetime object
    a row: the history of a large agreement is hundreds of thousands of rows)."""

    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps datetimes as UTC text on SQLite; '%%%%s' is strftime's %s once the
        # template and the placeholders are filled
        template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)


def _epochs(*names: str) -> dict:
    """``values_list`` arguments reading ``names`` as epoch seconds (by the database on SQLite
    and PostgreSQL; other databases give datetimes, converted by :func:`_as_epoch`)."""
    if connection.vendor in ("sqlite", "postgresql"):
        return {f"{name}_epoch": Epoch(name) for name in names}
    return {f"{name}_epoch": F(name) for name in names}


def _as_epoch(value) -> int:
    if value is None:
        return -1
    return value if isinstance(value, int) else int(value.timestamp())


def load_tickets(queryset) -> tuple[np.ndarray, TicketArrays]:
    """Tickets of a queryset and their history, as arrays (ordered by id)."""
    times = _epochs("opened_at", "resolved_at")
    rows = list(queryset.order_by("pk").annotate(**times).values_list("pk", *times, "priority"))
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    opened = np.array([_as_epoch(r[1]) for r in rows], dtype=np.int64)
    resolved = np.array([_as_epoch(r[2]) for r in rows], dtype=np.int64)
    priority = np.array([r[3] for r in rows], dtype=np.int64)
    at = _epochs("at")
    history = (
        TicketStateChange.objects.filter(ticket__in=queryset.values("pk"))
        .annotate(**at)
        .order_by("ticket_id", "sequence")
        .values_list("ticket_id", *at, "state")
        .iterator(chunk_size=10_000)
    )
    # read in chunks into flat arrays (24 bytes a row, the state texts shared), not a list of
    # tuples: an agreement's history is as many rows as the exports imported into it
    ids_read, at_read, states, known = array("q"), array("q"), [], {}
    for ticket_id, moment, state in history:
        ids_read.append(ticket_id)
        at_read.append(_as_epoch(moment))
        states.append(known.setdefault(state, state))
    hist_ids = np.frombuffer(ids_read, dtype=np.int64)  # the arrays' memory, not a copy
    hist_at = np.frombuffer(at_read, dtype=np.int64)
    hist_state = np.array(states, dtype=object)
    hist_ticket = np.searchsorted(ids, hist_ids) if ids.size else hist_ids
    return ids, TicketArrays(opened, resolved, priority, hist_ticket, hist_at, hist_state)


def outages_for(agreement: Agreement, service_id: int, as_of: int) -> OutageArrays:
    rows = Outage.objects.filter(
        Q(agreement=agreement) | Q(agreement__isnull=True), service_id=service_id
    ).values_list("start", "end", "planned")
    rows = list(rows)
    return OutageArrays(
        start=np.array([int(r[0].timestamp()) for r in rows], dtype=np.int64),
        end=np.array([as_of if r[1] is None else int(r[1].timestamp()) for r in rows], np.int64),
        planned=np.array([bool(r[2]) for r in rows], dtype=bool),
    )


def measurement_input(agreement: Agreement, as_of: int) -> MeasurementInput:
    targets = targets_of(agreement)
    calendars = {t.calendar_id: t.calendar.to_engine() for t in targets}
    ids, tickets = load_tickets(Ticket.objects.filter(agreement=agreement))
    outages = {
        t.service_id: outages_for(agreement, t.service_id, as_of)
        for t in targets
        if t.metric == Metric.AVAILABILITY and t.service_id
    }
    return MeasurementInput(agreement, targets, calendars, ids, tickets, outages)


def time_targets(targets, calendars) -> list[TimeTarget]:
    return [
        TimeTarget(
            key=t.pk,
            metric=t.metric,
            priority=t.priority,
            threshold=int(t.threshold_minutes) * 60,
            calendar=calendars[t.calendar_id],
        )
        for t in targets
        if t.metric in (RESPONSE, RESOLUTION) and t.priority and t.threshold_minutes
    ]


def fingerprint(agreement: Agreement, as_of: int) -> str:
    """A digest of the history and configuration an agreement's attainment depends on.

    Targets, calendars, credit tiers, pause states, planned-maintenance rule, priority matrix,
    monthly fee and cap, tickets, outages and the day of ``as_of`` (open tickets keep ageing).
    """
    targets = targets_of(agreement)
    config = {
        "pause_states": agreement.pause_states,
        "exclude_planned": agreement.exclude_planned_maintenance,
        "cap": str(agreement.credit_cap_percent),
        "fee": str(agreement.monthly_price()),
        "start": str(agreement.start_date),
        "end": str(agreement.end_date),
        "matrix": priority_matrix(agreement).cells,
        "targets": [
            [
                t.pk,
                t.metric,
                t.priority,
                t.threshold_minutes,
                str(t.attainment_percent),
                t.service_id,
                t.calendar_id,
                t.calendar.time_zone,
                t.calendar.windows,
                t.calendar.holiday_country,
                t.calendar.holiday_subdivision,
                t.calendar.extra_holidays,
                sorted((str(c.below_percent), str(c.credit_percent)) for c in t.credit_tiers.all()),
            ]
            for t in targets
        ],
        "tickets": _stamp(Ticket.objects.filter(agreement=agreement)),
        "outages": _stamp(
            Outage.objects.filter(
                Q(agreement=agreement) | Q(agreement__isnull=True),
                service__in=[t.service_id for t in targets if t.service_id],
            )
        ),
        "day": from_epoch(as_of).date().isoformat(),
    }
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp(queryset) -> list:
    figures = queryset.aggregate(count=Count("pk"), last=Max("updated_at"))
    return [figures["count"], str(figures["last"])]


# --- reads used by other features ----------------------------------------------------------


def pending_credits(agreement: Agreement, period: str):
    """The credits of ``agreement`` earned in ``period`` that no invoice carries yet.

    Brings the agreement's measurement up to date first (a changed calendar, target or import
    is taken into account); credits already applied are never touched by that.
    """
    from servicebook.levels.services import refresh_if_stale

    refresh_if_stale(agreement=agreement)
    return Credit.objects.filter(
        agreement=agreement, period=period, status=CreditStatus.PENDING
    ).order_by("target__metric", "target__priority", "pk")


def attainment_of(agreement: Agreement):
    return (
        Attainment.objects.filter(agreement=agreement)
        .select_related("target__service", "target__calendar")
        .order_by("period", "target__metric", "target__priority")
    )


# --- one ticket's clock ----------------------------------------------------------------------


def ticket_clock(ticket: Ticket, as_of: int | None = None) -> dict:
    """A ticket's clocks under its agreement's targets, with a timeline of its history.

    ``segments``: consecutive history intervals (state, start, end, working business seconds,
    paused or not); ``clocks``: per metric the target, elapsed, paused, deadline, breached.
    """
    as_of = now_epoch() if as_of is None else as_of
    agreement = ticket.agreement
    _, arrays = load_tickets(Ticket.objects.filter(pk=ticket.pk))
    targets = [t for t in targets_of(agreement) if t.priority == ticket.priority]
    calendars = {t.calendar_id: t.calendar.to_engine() for t in targets}
    results = measure_time_targets(
        arrays, time_targets(targets, calendars), agreement.pause_states, as_of
    )
    clocks = []
    for target in targets:
        result = results.get(target.pk)
        if result is None or result.index.size == 0:
            continue
        clocks.append(
            {
                "metric": target.metric,
                "target": str(target),
                "target_id": target.pk,
                "threshold_seconds": int(target.threshold_minutes) * 60,
                "calendar": target.calendar.name,
                "elapsed_seconds": int(result.elapsed[0]),
                "paused_seconds": int(result.paused[0]),
                "deadline": from_epoch(int(result.due[0])),
                "done": bool(result.done[0]),
                "breached": bool(result.breached[0]),
                "period": month_label(int(result.month[0])),
            }
        )
    segments = _segments(ticket, arrays, calendars, targets, agreement.pause_states, as_of)
    resolution = next((t for t in targets if t.metric == RESOLUTION), None)
    return {
        "calendar": calendars.get(resolution.calendar_id) if resolution else None,
        "ticket": ticket,
        "as_of": from_epoch(as_of),
        "clocks": clocks,
        "segments": segments,
        "source_made_sla": ticket.source_made_sla,
    }


def _segments(ticket, arrays: TicketArrays, calendars, targets, pause_states, as_of) -> list:
    """History intervals up to the resolution (or now) with their working time."""
    from servicebook.levels.clock import business_seconds

    resolution = next((t for t in targets if t.metric == RESOLUTION), None)
    calendar = calendars.get(resolution.calendar_id) if resolution else None
    end_of_clock = int(arrays.resolved[0]) if arrays.resolved[0] >= 0 else as_of
    pausing = set(pause_states) | set(RESOLVED_STATES)
    rows = list(zip(arrays.hist_at.tolist(), arrays.hist_state.tolist(), strict=True))
    segments = []
    for i, (start, state) in enumerate(rows):
        end = rows[i + 1][0] if i + 1 < len(rows) else max(end_of_clock, start)
        end = max(end, start)
        working = None
        if calendar is not None:
            working = int(business_seconds(calendar, [start], [end])[0])
        segments.append(
            {
                "state": state,
                "start": from_epoch(start),
                "end": from_epoch(end),
                "wall_seconds": end - start,
                "business_seconds": working,
                "paused": state in pausing and start < end_of_clock,
                "stopped": start >= end_of_clock and arrays.resolved[0] >= 0,
            }
        )
    return segments


# --- customer self-service (issue 15) -------------------------------------------------------


def tickets_waiting_for(user):
    """Portal tickets waiting for ``user`` to act, oldest first (the inbox, "My work").

    A customer user: its customer's tickets the provider asked about (``Awaiting User Info``) or
    resolved and waiting to be closed. A service manager or the provider admin: portal tickets
    the provider has to take up or answer (``New`` or ``In Progress``). Anybody else: none.
    """
    from servicebook.core.roles import Role, has_role, is_provider_staff
    from servicebook.core.tenancy import customer_of

    portal = Ticket.objects.visible_to(user).filter(channel="portal")
    if customer_of(user) is not None:
        waiting = portal.filter(state__in=["Awaiting User Info", "Resolved"])
    elif is_provider_staff(user) and has_role(user, Role.SERVICE_MANAGER, Role.PROVIDER_ADMIN):
        waiting = portal.filter(state__in=["New", "In Progress"])
    else:
        return Ticket.objects.none()
    return waiting.select_related("agreement__customer").order_by("updated_at", "pk")
