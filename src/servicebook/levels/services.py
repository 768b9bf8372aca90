"""Every write of the service levels app: intake, outages, recomputation, consequences."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from datetime import UTC, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook import ports
from servicebook.agreements.models import Agreement, Metric
from servicebook.core import locks
from servicebook.core.errors import DomainError
from servicebook.core.garbage import fewer_collections
from servicebook.core.money import allocate_amount, quantum, round_money
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.levels import intake, notices
from servicebook.levels.clock import local_months, month_index, month_label
from servicebook.levels.measure import availability_periods, measure_time_targets, time_periods
from servicebook.levels.models import (
    Attainment,
    Credit,
    CreditStatus,
    ImportBatch,
    LevelsState,
    Outage,
    PriorityMatrixSetting,
    Ticket,
)
from servicebook.levels.selectors import (
    fingerprint,
    measurement_input,
    now_epoch,
    priority_matrix,
    resolve_agreement,
    time_targets,
)
from servicebook.levels.ticket_writes import CHUNK as _CHUNK
from servicebook.levels.ticket_writes import ImportResult, TicketWrites
from servicebook.levels.ticket_writes import utc as _dt
from servicebook.levels.workflows import CREDIT
from servicebook.policy import BreachConsequence

LEVEL_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)
RECOMPUTERS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER, Role.FINANCE)
CREDIT_APPLIERS = (Role.PROVIDER_ADMIN, Role.FINANCE)
FORMATS = ("servicenow", "csv")
MAX_API_ROWS = 20_000


# --- intake ----------------------------------------------------------------------------------


def _priority(parsed: intake.ParsedTicket, cells: dict) -> int:
    impact, urgency = parsed.fields["impact"], parsed.fields["urgency"]
    if impact is not None and urgency is not None and (impact, urgency) in cells:
        return cells[(impact, urgency)]
    if parsed.fields["source_priority"] is not None:
        return parsed.fields["source_priority"]
    raise intake.RowError(
        f"no priority: impact {impact} × urgency {urgency} is not in the agreement's matrix"
    )


def _ticket_values(parsed: intake.ParsedTicket, priority: int) -> dict:
    f = parsed.fields
    return {
        "kind": f["kind"],
        "short_description": f["short_description"],
        "state": f["state"],
        "active": bool(f["active"]),
        "impact": f["impact"],
        "urgency": f["urgency"],
        "priority": priority,
        "source_priority": f["source_priority"],
        "category": f["category"],
        "assignment_group": f["assignment_group"],
        "contact_type": f["contact_type"],
        "caller": f["caller"],
        "opened_at": _dt(f["opened"]),
        "resolved_at": _dt(f["resolved"]),
        "closed_at": _dt(f["closed"]),
        "reassignment_count": f["reassignment_count"],
        "reopen_count": f["reopen_count"],
        "source_made_sla": f["source_made_sla"],
    }


#: Tickets written at a time as the file is read: memory holds this many, not the file's.
TICKETS_PER_CHUNK = 2_000


@transaction.atomic
@fewer_collections()  # millions of short-lived objects: see servicebook.core.garbage
def import_tickets(
    *,
    actor,
    rows: Iterable[Mapping],
    fmt: str,
    columns: Sequence[str] | None = None,
    agreement: str | None = None,
    source: str | None = None,
    time_zone: str = "UTC",
    filename: str = "",
    recompute: bool = True,
    progress: Callable[..., None] | None = None,
    reread: Callable[[], Iterable[Mapping]] | None = None,
    chunk: int = TICKETS_PER_CHUNK,
    read_share: Callable[[], float] | None = None,
) -> ImportResult:
    """Import tickets, idempotent by (source, number); returns what was created and rejected.

    ``fmt`` is ``servicenow`` (incident event log) or ``csv`` (generic, one row per ticket);
    ``agreement`` places every ticket on that agreement reference unless a row's ``agreement``
    column names one; rows that cannot be placed or read are rejected with their reason. A
    later export updates tickets (ServiceNow rows are merged by ``sys_mod_count``; a generic
    CSV row replaces the ticket's history). Affected agreements are recomputed.
    ``progress(done, total, message)`` hears how far it got, in percent (background jobs, CLI);
    ``read_share()`` (0-1, e.g. ``intake.CsvFile.share``) says how far the reading of ``rows``
    got when their number is not known (a file read as it is imported).

    ``rows`` is read once, row by row, and tickets are written ``chunk`` at a time as they are
    read: a ServiceNow export keeps each ticket's rows together (ordered by number), so memory
    holds one chunk of tickets, not the file. Should a ticket's rows not be together, what was
    written is rolled back and the rows are read again whole (memory then grows with the
    tickets). Given ``reread`` (a fresh iterator over the same rows, e.g. the file opened again)
    an iterator is never held in memory: the rows of tickets rejected after reading, and the
    second reading, come from ``reread()``. Without it, an iterator is made a list. Everything
    is one transaction: a failure writes nothing.
    """
    report = progress or _silent
    require_role(actor, *LEVEL_EDITORS, action="Importing tickets")
    source = _checked_import(fmt, source, agreement, time_zone, columns)
    if reread is None and not isinstance(rows, Sequence):
        rows = list(rows)
    # one import of a source at a time: two workers importing one export never insert a ticket
    # twice (taken before the stored tickets are read)
    locks.hold(f"levels.import_tickets:{source}")
    options = {"agreement": agreement, "tz": time_zone}
    run = _ImportRun(actor=actor, source=source, fmt=fmt, chunk=max(1, chunk), report=report)
    run.read_share = read_share
    try:
        with transaction.atomic():
            run.read(rows, contiguous=True, **options)
    except intake.NotContiguous:
        report(5, 100, "a ticket's rows are apart in the file: reading it whole")
        run = _ImportRun(actor=actor, source=source, fmt=fmt, chunk=max(1, chunk), report=report)
        run.read(rows if reread is None else reread(), contiguous=False, **options)
    result = run.result
    result.rejects.extend(_late_rejects(run.late, rows if reread is None else reread()))
    by_pk = {a.pk: a for a in run.agreements.values() if a is not None}
    _summarize(result, by_pk, run.touched, actor=actor, fmt=fmt, source=source, filename=filename)
    if recompute:
        touched = sorted(run.touched)
        for number, pk in enumerate(touched):
            report(85 + 15 * number // len(touched), 100, f"recomputing {by_pk[pk].reference}")
            recompute_attainment(actor=None, agreement=by_pk[pk], reason="tickets imported")
    report(100, 100, "done")
    return result


def _silent(done: int, total: int | None = None, message: str = "") -> None:
    """The progress callback of a caller that does not listen."""


def _checked_import(fmt, source, agreement, time_zone, columns) -> str:
    """The import's source name, once its format, names, zone and columns are known good."""
    if fmt not in FORMATS:
        raise DomainError(f"unknown format {fmt!r}: use servicenow or csv", field="format")
    source = (source or fmt).strip()
    if not source or len(source) > 40:
        raise DomainError("source is a name of up to 40 characters", field="source")
    for name, value in (("source", source), ("agreement", agreement or "")):
        if intake.NUL in value:
            raise DomainError(f"{name} contains a NUL character, which is not text", field=name)
    try:
        intake.zone_of(time_zone)
        if columns is not None:
            intake.check_columns(columns, fmt, has_agreement=bool(agreement))
    except ValueError as error:
        raise DomainError(str(error), field="file") from None
    return source


class _ImportRun:
    """One reading of the rows: tickets are placed, merged and written a chunk at a time."""

    def __init__(self, *, actor, source: str, fmt: str, chunk: int, report) -> None:
        self.source, self.fmt, self.chunk, self.report = source, fmt, chunk, report
        self.result = ImportResult()
        self.now = timezone.now()
        self.visible = Agreement.objects if actor is None else Agreement.objects.visible_to(actor)
        self.agreements: dict[str, Agreement | None] = {}  # reference → agreement (None: unknown)
        self.matrices: dict[str, dict] = {}
        self.late: list[tuple[int, str]] = []  # rows rejected once read: (row number, reason)
        self.touched: set[int] = set()  # agreements whose tickets changed
        self.read_share: Callable[[], float] | None = None  # how far the reading got (0-1)

    def read(self, rows: Iterable[Mapping], *, contiguous: bool, agreement, tz) -> None:
        counted = _Counted(_dict_rows(rows) if isinstance(rows, csv.DictReader) else rows)
        size = len(rows) if isinstance(rows, Sized) else None
        parse = intake.iter_servicenow if self.fmt == "servicenow" else intake.iter_csv
        tickets = parse(
            counted,
            agreement=agreement,
            tz=tz,
            rejects=self.result.rejects,
            contiguous=contiguous,
        )
        self.report(5, 100, "reading the rows")
        batch: list[intake.ParsedTicket] = []
        for ticket in tickets:
            batch.append(ticket)
            if len(batch) >= self.chunk:
                self.write(batch)
                batch = []
                done = f"{counted.count:,} rows read"
                if size:
                    share = 80 * counted.count // size
                else:  # rows of unknown number: the share of the file read, else half way
                    share = int(80 * self.read_share()) if self.read_share else 40
                self.report(5 + share, 100, done + (f" of {size:,}" if size else ""))
        if batch:
            self.write(batch)
        self.result.rows_read = counted.count

    def write(self, tickets: list[intake.ParsedTicket]) -> None:
        """Place, merge and write one chunk of tickets."""
        for reference in {t.agreement for t in tickets} - self.agreements.keys():
            found = self.agreements[reference] = resolve_agreement(reference, self.visible)
            if found is not None:
                self.matrices[reference] = dict(priority_matrix(found).cells)
        existing: dict[str, Ticket] = {}
        numbers = [t.number for t in tickets]
        for i in range(0, len(numbers), _CHUNK):
            chunk = numbers[i : i + _CHUNK]
            for ticket in Ticket.objects.filter(source=self.source, number__in=chunk):
                existing[ticket.number] = ticket
        placed = _place(tickets, self.agreements, self.matrices, existing, self.late)
        writes = TicketWrites(source=self.source, fmt=self.fmt, now=self.now)
        writes.plan(placed, existing, self.result)
        writes.save(self.result)
        self.touched |= writes.touched


def _dict_rows(reader: csv.DictReader) -> Iterator[dict]:
    """The rows of ``reader`` as it gives them, built from its CSV reader directly (the row of
    the usual length in one ``dict(zip())``; ``DictReader.__next__`` was a tenth of an import)."""
    names = reader.fieldnames or []
    width = len(names)
    for cells in reader.reader:
        if len(cells) == width:
            yield dict(zip(names, cells, strict=True))
        elif cells:  # as DictReader does: extra cells under restkey, missing ones restval
            row = dict(zip(names, cells, strict=False))
            if width < len(cells):
                row[reader.restkey] = cells[width:]  # type: ignore[index]
            else:
                for name in names[len(cells) :]:
                    row[name] = reader.restval
            yield row


class _Counted:
    """The rows, counted as they are read."""

    def __init__(self, rows: Iterable[Mapping]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def _late_rejects(late: list[tuple[int, str]], rows: Iterable[Mapping]) -> list:
    """``(row number, row, reason)`` of the rows rejected once read (``late``: number, reason)."""
    if not late:
        return []
    if isinstance(rows, Sequence):
        return [(n, rows[n - 1], reason) for n, reason in late]
    reasons = dict(late)
    return [(n, row, reasons[n]) for n, row in enumerate(rows, start=1) if n in reasons]


def _place(parsed, agreements, matrices, existing, rejects) -> list:
    """Each ticket with its agreement and field values; the rows of a ticket that cannot be
    placed go to ``rejects`` as ``(row number, reason)``."""
    placed: list[tuple[intake.ParsedTicket, Agreement, dict]] = []
    for ticket in parsed:
        target = agreements[ticket.agreement]
        old = existing.get(ticket.number)
        try:
            if target is None:
                raise intake.RowError(f"unknown agreement {ticket.agreement!r}")
            if old is not None and old.agreement_id != target.pk:
                raise intake.RowError(f"{ticket.number} already belongs to another agreement")
            values = _ticket_values(ticket, _priority(ticket, matrices[ticket.agreement]))
        except intake.RowError as error:
            rejects.extend((n, str(error)) for n in ticket.rows)
            continue
        placed.append((ticket, target, values))
    return placed


def _summarize(result: ImportResult, by_pk, touched, *, actor, fmt, source, filename) -> None:
    """Sort the rejects, name the agreements touched and record the batch."""
    result.rejects.sort(key=lambda item: item[0])
    if result.rows_read != result.rows_accepted + result.rows_rejected:  # pragma: no cover
        raise AssertionError("every row is either accepted or rejected")
    result.agreements = sorted(by_pk[pk].reference for pk in touched)
    result.batch = ImportBatch.objects.create(
        actor=actor,
        what="tickets",
        format=fmt,
        source=source,
        filename=filename[:300],
        rows_read=result.rows_read,
        created=result.tickets_created,
        updated=result.tickets_updated,
        rows_rejected=result.rows_rejected,
    )


# --- outages and configuration -----------------------------------------------------------


@transaction.atomic
def record_outage(
    *,
    actor,
    service,
    start: datetime,
    end: datetime | None = None,
    planned: bool = False,
    agreement: Agreement | None = None,
    reference: str = "",
    description: str = "",
) -> Outage:
    """Record that a service was down (``planned`` for maintenance); ``end`` empty = ongoing."""
    require_role(actor, *LEVEL_EDITORS, action="Recording an outage")
    if agreement is not None and not agreement.targets.filter(service=service).exists():
        raise DomainError(
            "this agreement has no availability target for the service", field="agreement"
        )
    outage = Outage(
        service=service,
        agreement=agreement,
        start=start,
        end=end,
        planned=planned,
        description=description,
        reference=reference or f"OUT-{service.code}-{start:%Y%m%d%H%M}",
    )
    save_validated(outage)
    ports.measurement_changed()  # availability is recomputed by a job
    return outage


@transaction.atomic
def end_outage(*, actor, outage: Outage, end: datetime) -> Outage:
    """Close an ongoing outage."""
    require_role(actor, *LEVEL_EDITORS, action="Ending an outage")
    if outage.end is not None:
        raise DomainError("this outage has already ended", field="end")
    outage.end = end
    save_validated(outage)
    ports.measurement_changed()
    return outage


OUTAGE_COLUMNS = ("reference", "service", "start")


@transaction.atomic
def import_outages(
    *,
    actor,
    rows: Iterable[Mapping],
    columns: Sequence[str],
    time_zone: str = "UTC",
    filename: str = "",
) -> dict:
    """Import outages from CSV (reference, service code, agreement, start, end, planned,
    description); idempotent by reference (a later file updates the outage)."""
    from servicebook.catalog.models import Service

    require_role(actor, *LEVEL_EDITORS, action="Importing outages")
    missing = [c for c in OUTAGE_COLUMNS if c not in set(columns or ())]
    if missing:
        raise DomainError(f"missing outage column(s): {', '.join(missing)}", field="file")
    try:
        intake.zone_of(time_zone)
    except ValueError as error:
        raise DomainError(str(error), field="time_zone") from None
    rows = list(rows)
    services = {s.code: s for s in Service.objects.all()}
    visible = Agreement.objects.visible_to(actor) if actor is not None else Agreement.objects
    rejects: list[tuple[int, Mapping, str]] = []
    created = updated = 0
    touched: set[int] = set()
    for number, row in enumerate(rows, start=1):
        try:
            values = _outage_values(row, services, visible, time_zone)
        except (intake.RowError, ValidationError) as error:
            reason = "; ".join(error.messages) if isinstance(error, ValidationError) else error
            rejects.append((number, row, str(reason)))
            continue
        outage = Outage.objects.filter(reference=values["reference"]).first()
        if outage is None:
            outage = Outage(**values)
            created += 1
        else:
            if all(getattr(outage, k) == v for k, v in values.items()):
                continue
            for name, value in values.items():
                setattr(outage, name, value)
            updated += 1
        try:
            with transaction.atomic():
                save_validated(outage)
        except ValidationError as error:
            created, updated = (
                (created - 1, updated) if outage.pk is None else (created, updated - 1)
            )
            rejects.append((number, row, "; ".join(error.messages)))
            continue
        touched.add(outage.service_id)
    ImportBatch.objects.create(
        actor=actor,
        what="outages",
        format="csv",
        source="csv",
        filename=filename[:300],
        rows_read=len(rows),
        created=created,
        updated=updated,
        rows_rejected=len(rejects),
    )
    if touched:
        ports.measurement_changed()
    return {
        "rows_read": len(rows),
        "outages_created": created,
        "outages_updated": updated,
        "rows_rejected": len(rejects),
        "rejects": rejects,
    }


def _outage_values(row, services, agreements, time_zone) -> dict:
    intake.refuse_nul(row)
    reference = intake._text(row, "reference")
    if not reference:
        raise intake.RowError("reference is empty")
    service = services.get(intake._text(row, "service"))
    if service is None:
        raise intake.RowError(f"unknown service code {intake._text(row, 'service')!r}")
    agreement = None
    if reference_text := intake._text(row, "agreement"):
        agreement = resolve_agreement(reference_text, agreements)
        if agreement is None:
            raise intake.RowError(f"unknown agreement {reference_text!r}")
        if not agreement.targets.filter(service=service).exists():
            raise intake.RowError(
                f"{agreement.reference} has no availability target for {service.code}"
            )
    start = intake._time(row, "start", time_zone, intake._iso_time, required=True)
    end = intake._time(row, "end", time_zone, intake._iso_time)
    planned = intake._flag(row, "planned")
    return {
        "reference": reference[:60],
        "service": service,
        "agreement": agreement,
        "start": _dt(start),
        "end": _dt(end),
        "planned": bool(planned),
        "description": intake._text(row, "description")[:200],
    }


@transaction.atomic
def set_priority_matrix(*, actor, agreement: Agreement, cells: list) -> PriorityMatrixSetting:
    """Give an agreement its own impact × urgency matrix; its tickets' priorities follow."""
    require_role(actor, *LEVEL_EDITORS, action="Changing the priority matrix")
    setting = PriorityMatrixSetting.objects.filter(agreement=agreement).first()
    setting = setting or PriorityMatrixSetting(agreement=agreement)
    setting.cells = cells
    save_validated(setting)
    matrix = dict(setting.to_engine().cells)
    now = timezone.now()
    changed = []
    for ticket in Ticket.objects.filter(agreement=agreement).only(
        "pk", "impact", "urgency", "priority", "source_priority"
    ):
        wanted = matrix.get((ticket.impact, ticket.urgency), ticket.source_priority)
        if wanted is not None and wanted != ticket.priority:
            ticket.priority, ticket.updated_at = wanted, now
            changed.append(ticket)
    Ticket.objects.bulk_update(changed, ["priority", "updated_at"], _CHUNK)
    recompute_attainment(actor=None, agreement=agreement, reason="priority matrix changed")
    return setting


# --- attainment --------------------------------------------------------------------------


def _month_of(day) -> int:
    return month_index(f"{day:%Y-%m}")


@transaction.atomic
def recompute_attainment(
    *, actor, agreement: Agreement, as_of: int | None = None, reason: str = ""
) -> list[Attainment]:
    """Measure every target of the agreement for every month from its stored history.

    The cached :class:`Attainment` rows are replaced; the consequences of breaches follow the
    customer's policy (credits for contracts, improvement items for internal agreements).
    """
    require_role(actor, *RECOMPUTERS, action="Recomputing service levels")
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    as_of = now_epoch() if as_of is None else int(as_of)
    data = measurement_input(agreement, as_of)
    results = measure_time_targets(
        data.tickets, time_targets(data.targets, data.calendars), agreement.pause_states, as_of
    )
    computed_at = timezone.now()
    rows: list[Attainment] = []
    for target in data.targets:
        calendar = data.calendars[target.calendar_id]
        if target.metric == Metric.AVAILABILITY:
            if not target.service_id:
                continue
            last = int(local_months(calendar.tz, [as_of])[0])
            if agreement.end_date:
                last = min(last, _month_of(agreement.end_date))
            months = range(_month_of(agreement.start_date), last + 1)
            figures = availability_periods(
                calendar,
                months,
                data.outages[target.service_id],
                target.attainment_percent,
                exclude_planned=agreement.exclude_planned_maintenance,
                as_of=as_of,
            )
        elif target.pk in results:
            figures = time_periods(results[target.pk], target.attainment_percent)
        else:
            continue
        for f in figures:
            rows.append(
                Attainment(
                    agreement=agreement,
                    target=target,
                    period=month_label(f.month),
                    metric=target.metric,
                    measured_percent=f.measured,
                    target_percent=target.attainment_percent,
                    met=f.met,
                    tickets_total=f.total,
                    tickets_breached=f.breached,
                    tickets_pending=f.pending,
                    agreed_seconds=f.agreed_seconds,
                    down_seconds=f.down_seconds,
                    breaching_tickets=data.ticket_ids[list(f.breaching)].tolist(),
                    computed_at=computed_at,
                )
            )
    Attainment.objects.filter(agreement=agreement).delete()
    Attainment.objects.bulk_create(rows, batch_size=1_000)
    LevelsState.objects.update_or_create(
        agreement=agreement,
        defaults={
            "fingerprint": fingerprint(agreement, as_of),
            "as_of": datetime.fromtimestamp(as_of, UTC),
            "computed_at": computed_at,
        },
    )
    targets = {t.pk: t for t in data.targets}
    CONSEQUENCES[agreement.policy.breach_consequence](
        actor=actor, agreement=agreement, rows=rows, targets=targets, reason=reason
    )
    return rows


def refresh_if_stale(*, agreement: Agreement, as_of: int | None = None) -> bool:
    """Recompute the agreement's attainment if its history or configuration changed since."""
    as_of = now_epoch() if as_of is None else int(as_of)
    agreement = Agreement.objects.get(pk=agreement.pk)  # the stored configuration
    state = LevelsState.objects.filter(agreement=agreement).first()
    if state is not None and state.fingerprint == fingerprint(agreement, as_of):
        return False
    recompute_attainment(actor=None, agreement=agreement, as_of=as_of, reason="input changed")
    return True


def credit_percent_for(target, measured: Decimal | None) -> Decimal | None:
    """The credit a contract earns for ``measured`` attainment: the highest matching tier."""
    if measured is None:
        return None
    matching = [t.credit_percent for t in target.credit_tiers.all() if measured < t.below_percent]
    return max(matching) if matching else None


def _settle_credits(*, actor, agreement: Agreement, rows, targets, reason: str) -> None:
    """Contracts: missed targets earn the scheduled credits, capped per month."""
    fee = agreement.monthly_price()
    currency = agreement.currency
    earned: dict[str, dict[int, tuple[Attainment, Decimal]]] = defaultdict(dict)
    for row in rows:
        if row.met is False:
            percent = credit_percent_for(targets[row.target_id], row.measured_percent)
            if percent:
                earned[row.period][row.target_id] = (row, percent)
    existing: dict[str, list[Credit]] = defaultdict(list)
    for credit in Credit.objects.select_for_update().filter(agreement=agreement):
        existing[credit.period].append(credit)
    for period in sorted(set(earned) | set(existing)):
        applied = [c for c in existing[period] if c.status == CreditStatus.APPLIED]
        pending = {c.target_id: c for c in existing[period] if c.status == CreditStatus.PENDING}
        done = {c.target_id for c in applied}
        wanted = {tid: v for tid, v in sorted(earned[period].items()) if tid not in done}
        amounts = {tid: round_money(pct * fee / 100, currency) for tid, (_, pct) in wanted.items()}
        capped = False
        if agreement.credit_cap_percent is not None and amounts:
            cap = round_money(agreement.credit_cap_percent * fee / 100, currency)
            available = max(cap - sum((c.amount for c in applied), Decimal(0)), Decimal(0))
            if sum(amounts.values()) > available:
                parts = allocate_amount(available, list(amounts.values()), quantum(currency))
                amounts = dict(zip(amounts, parts, strict=True))
                capped = True
        for tid, (row, pct) in wanted.items():
            values = {
                "attainment_percent": row.measured_percent,
                "credit_percent": pct,
                "amount": amounts[tid],
                "currency": currency,
                "capped": capped,
            }
            credit = pending.pop(tid, None)
            if credit is None:
                credit = Credit(agreement=agreement, target_id=tid, period=period, **values)
                save_validated(credit)
                CREDIT.record(
                    credit,
                    actor,
                    "earned",
                    to_state=CreditStatus.PENDING,
                    reason="breach",
                    note=f"{targets[tid]}: {row.measured_percent}% → {pct}% of the fee",
                )
                notices.credit_earned(credit, targets[tid])
                continue
            before = {name: getattr(credit, name) for name in values}
            if before != values:
                for name, value in values.items():
                    setattr(credit, name, value)
                save_validated(credit)
                CREDIT.record(
                    credit,
                    actor,
                    "recomputed",
                    reason="recomputed",
                    note=f"{before['amount']} → {credit.amount} {currency} ({reason})",
                )
        for credit in pending.values():  # no longer earned after the recomputation
            credit.delete()


def _raise_improvements(*, actor, agreement: Agreement, rows, targets, reason: str) -> None:
    """Internal agreements: a missed target becomes a draft improvement item (all at once)."""
    breaches = [
        {
            "target": targets[row.target_id],
            "period": row.period,
            "attainment": row.measured_percent,
            "breaching_tickets_count": row.tickets_breached,
        }
        for row in rows
        if row.met is False
    ]
    if breaches:
        ports.breach_improvement(breaches=breaches)  # plugged in by the improvement app


#: What a breach produces, by the policy's ``breach_consequence`` (policy.py decides which).
CONSEQUENCES = {
    BreachConsequence.SERVICE_CREDIT: _settle_credits,
    BreachConsequence.IMPROVEMENT_ACTION: _raise_improvements,
}


# --- credits and the period close ------------------------------------------------------------


@transaction.atomic
def mark_credits_applied(*, credits, reference: str, actor=None) -> None:
    """Record that an invoice carries these pending credits; they never change afterwards.

    Called by the period close with the invoice number. Refuses (and changes nothing) when a
    credit was already applied.
    """
    require_role(actor, *CREDIT_APPLIERS, action="Applying service credits")
    reference = (reference or "").strip()
    if not reference:
        raise DomainError(
            "give the invoice reference the credits are applied to", field="reference"
        )
    ids = [c.pk for c in credits]
    locked = list(Credit.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(locked) != len(set(ids)):
        raise DomainError("unknown credit", field="credits")
    for credit in locked:
        if credit.status != CreditStatus.PENDING:
            raise DomainError(
                f"the {credit.period} credit for {credit.target} was already applied to "
                f"{credit.applied_reference}",
                code="already_applied",
                field="credits",
            )
    for credit in locked:
        credit.applied_reference = reference[:60]
        CREDIT.move(credit, CreditStatus.APPLIED, actor=actor, action="applied", note=reference)


__all__ = [
    "CONSEQUENCES",
    "ImportResult",
    "credit_percent_for",
    "end_outage",
    "import_tickets",
    "mark_credits_applied",
    "recompute_attainment",
    "record_outage",
    "refresh_if_stale",
    "set_priority_matrix",
]
