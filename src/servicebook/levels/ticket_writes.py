"""How a ticket import writes: tickets placed on their agreements are merged with the stored
ones and their state histories, then written in bulk (a few statements per 2,000 tickets).

The steps before (reading the file, placing each ticket) and the summary after belong to
:func:`servicebook.levels.services.import_tickets`, the one entry point.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection

from servicebook.levels import intake
from servicebook.levels.models import ImportBatch, Ticket, TicketStateChange

CHUNK = 2_000  # ids per query: far below every database's parameter limit

TICKET_FIELDS = (
    "kind",
    "short_description",
    "state",
    "active",
    "impact",
    "urgency",
    "priority",
    "source_priority",
    "category",
    "assignment_group",
    "contact_type",
    "caller",
    "opened_at",
    "resolved_at",
    "closed_at",
    "reassignment_count",
    "reopen_count",
    "source_made_sla",
)


def utc(seconds: int | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime (None stays None)."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass
class ImportResult:
    """What an import did. ``rows_read == rows_accepted + rows_rejected`` always."""

    rows_read: int = 0
    tickets_created: int = 0
    tickets_updated: int = 0
    tickets_unchanged: int = 0
    rows_accepted: int = 0
    rejects: list[tuple[int, Mapping, str]] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)
    batch: ImportBatch | None = None

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)

    def summary(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "tickets_created": self.tickets_created,
            "tickets_updated": self.tickets_updated,
            "tickets_unchanged": self.tickets_unchanged,
            "agreements": self.agreements,
        }


class NewTicket:
    """A ticket to insert: its field values by attribute name (``agreement_id``…), and its id
    once inserted (no model instance: building 20,000 of them was a second of an import)."""

    __slots__ = ("pk", "values")

    def __init__(self, values: dict) -> None:
        self.values, self.pk = values, None

    @property
    def number(self) -> str:
        return self.values["number"]

    @property
    def agreement_id(self) -> int:
        return self.values["agreement_id"]

    def clean(self) -> None:
        """:meth:`Ticket.clean` on the values."""
        opened, resolved = self.values["opened_at"], self.values["resolved_at"]
        if resolved and opened and resolved < opened:
            raise ValidationError({"resolved_at": "a ticket cannot be resolved before it opened"})


@dataclass
class TicketWrites:
    """What an import writes, gathered ticket by ticket, then written in bulk."""

    source: str
    fmt: str
    now: datetime
    new_objects: list[NewTicket] = field(default_factory=list)
    new_parsed: list[intake.ParsedTicket] = field(default_factory=list)
    changed_tickets: list[Ticket] = field(default_factory=list)
    history_new: list[tuple] = field(default_factory=list)  # (ticket, sequence, at, state)
    history_update: list[TicketStateChange] = field(default_factory=list)
    history_delete: list[int] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)  # agreements whose tickets changed

    def plan(self, placed: list, existing: dict[str, Ticket], result: ImportResult) -> None:
        history_by_ticket = _existing_history(
            [existing[t.number].pk for t, _, _ in placed if t.number in existing]
        )
        for ticket, target, values in placed:
            result.rows_accepted += len(ticket.rows)
            old = existing.get(ticket.number)
            if old is None:
                values = {
                    **values,
                    "agreement_id": target.pk,
                    "source": self.source,
                    "number": ticket.number,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
                self.new_objects.append(NewTicket(values))
                self.new_parsed.append(ticket)
            elif self._merge(old, ticket, values, history_by_ticket.get(old.pk, {})):
                self.touched.add(target.pk)
                result.tickets_updated += 1
            else:
                result.tickets_unchanged += 1

    def _merge(self, old: Ticket, ticket, values: dict, stored: dict) -> bool:
        """Bring ``old`` and its history up to the export; whether anything changed."""
        stored_last = max(stored) if stored else -1
        changed = False
        if self.fmt == "csv":
            wanted = {seq: (at, state) for seq, at, state in ticket.history}
            current = {seq: (int(h.at.timestamp()), h.state) for seq, h in stored.items()}
            if wanted != current:
                self.history_delete.extend(h.pk for h in stored.values())
                self.history_new.extend(_history_rows(old, ticket.history))
                changed = True
        else:
            for seq, at, state in ticket.history:
                row = stored.get(seq)
                if row is None:
                    self.history_new.append((old, seq, at, state))
                    changed = True
                elif int(row.at.timestamp()) != at or row.state != state:
                    row.at, row.state = utc(at), state
                    self.history_update.append(row)
                    changed = True
        if self.fmt == "csv" or ticket.last_sequence >= stored_last:
            for name, value in values.items():
                if getattr(old, name) != value:
                    setattr(old, name, value)
                    changed = True
        if changed:
            old.updated_at = self.now
            self.changed_tickets.append(old)
        return changed

    def save(self, result: ImportResult, progress=None) -> None:
        """Write in bulk; ``progress(share, message)`` hears the share (0-1) written so far."""
        report = progress or (lambda share, message: None)
        new_objects = self.new_objects
        for obj in new_objects:
            obj.clean()
        _insert_tickets(new_objects, report)
        for i in range(0, len(new_objects), CHUNK):
            chunk = {o.number: o for o in new_objects[i : i + CHUNK]}
            found = Ticket.objects.filter(source=self.source, number__in=list(chunk))
            for number, pk in found.values_list("number", "pk"):
                chunk[number].pk = pk
        for obj, ticket in zip(new_objects, self.new_parsed, strict=True):
            self.history_new.extend(_history_rows(obj, ticket.history))
            self.touched.add(obj.agreement_id)
        result.tickets_created += len(new_objects)
        for i in range(0, len(self.history_delete), CHUNK):
            TicketStateChange.objects.filter(pk__in=self.history_delete[i : i + CHUNK]).delete()
        if self.changed_tickets:
            fields = [*TICKET_FIELDS, "updated_at"]
            Ticket.objects.bulk_update(self.changed_tickets, fields, CHUNK)
        if self.history_update:
            TicketStateChange.objects.bulk_update(self.history_update, ["at", "state"], CHUNK)
        _insert_history(self.history_new, report)


def _history_progress(report, done: int, total: int) -> None:
    report(0.5 + 0.5 * done / total, f"writing state history {done:,} of {total:,}")


def _existing_history(ticket_ids: list[int]) -> dict[int, dict[int, TicketStateChange]]:
    found: dict[int, dict[int, TicketStateChange]] = defaultdict(dict)
    for i in range(0, len(ticket_ids), CHUNK):
        for row in TicketStateChange.objects.filter(ticket_id__in=ticket_ids[i : i + CHUNK]):
            found[row.ticket_id][row.sequence] = row
    return found


#: Field types whose Python value is what the database driver takes (no conversion needed).
_PLAIN = frozenset(
    {"CharField", "TextField", "BooleanField", "ForeignKey", "IntegerField"}
    | {"PositiveIntegerField", "PositiveSmallIntegerField", "BigIntegerField"}
)


def _insert_tickets(objs: list[NewTicket], report) -> None:
    """Insert new tickets with plain ``executemany`` (as the history): ``bulk_create`` spends
    most of a large import compiling one placeholder per value; their ids are read after."""
    fields = [f for f in Ticket._meta.concrete_fields if not f.primary_key]
    adapt_time = _time_adapter()
    convert = [
        None
        if f.get_internal_type() in _PLAIN
        else _AsTime(adapt_time)
        if f.get_internal_type() == "DateTimeField"
        else f
        for f in fields
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Ticket._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )

    defaults = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    plain = [c is None for c in convert]
    if all(plain[i] or isinstance(c, _AsTime) for i, c in enumerate(convert)):
        adapt = [None if c is None else c.adapt for c in convert]

        def values(obj: NewTicket) -> tuple:
            row = {**defaults, **obj.values}
            return tuple(
                row[name] if a is None else a(row[name])
                for name, a in zip(names, adapt, strict=True)
            )
    else:  # pragma: no cover - a field type of its own conversion

        def values(obj: NewTicket) -> tuple:
            row = {**defaults, **obj.values}
            return tuple(
                row[f.attname] if c is None else c.get_db_prep_save(row[f.attname], connection)
                for f, c in zip(fields, convert, strict=True)
            )

    with connection.cursor() as cursor:
        for i in range(0, len(objs), 10_000):
            report(0.5 * i / len(objs), f"writing tickets {i:,} of {len(objs):,}")
            cursor.executemany(sql, [values(obj) for obj in objs[i : i + 10_000]])


def _insert_history(rows: list[tuple], report=None) -> None:
    """Insert state-history rows ``(ticket, sequence, at, state)`` (``at`` in epoch seconds) in
    bulk: plain ``executemany``, no model instances (a 150,000-row export's history would spend
    most of its time building them and ORM statements)."""
    if not rows:
        return
    meta = TicketStateChange._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in ("ticket", "sequence", "at", "state")]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        "VALUES (%s, %s, %s, %s)"
    )
    adapt = _epoch_adapter()
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 10_000):
            if report is not None:
                _history_progress(report, i, len(rows))
            cursor.executemany(
                sql,
                [
                    (ticket.pk, sequence, adapt(at), state)
                    for ticket, sequence, at, state in rows[i : i + 10_000]
                ],
            )


class _AsTime:
    """A datetime field's value as the database driver takes it (``get_db_prep_save`` without
    its checks: the import's times are aware UTC datetimes already)."""

    def __init__(self, adapt) -> None:
        self.adapt = adapt

    def get_db_prep_save(self, value, connection) -> object:
        return self.adapt(value)


_NAIVE_EPOCH = datetime(1970, 1, 1)


def _utc_sqlite() -> bool:
    """Whether the connection is SQLite storing times as naive UTC text (Django's default)."""
    return connection.vendor == "sqlite" and connection.timezone is UTC


def _time_adapter():
    """``adapt_datetimefield_value`` for aware datetimes, by string formatting on SQLite (where
    Django stores ``str()`` of the naive UTC time: the same text, without its per-value checks)."""
    adapt = connection.ops.adapt_datetimefield_value
    if not _utc_sqlite():
        return adapt

    def fast(value):
        if value is not None and value.tzinfo is UTC:
            return str(value.replace(tzinfo=None))
        return adapt(value)

    return fast


def _epoch_adapter():
    """Epoch seconds as the database driver takes a datetime field's value."""
    adapt = connection.ops.adapt_datetimefield_value
    if not _utc_sqlite():
        return lambda seconds: adapt(utc(seconds))
    return lambda seconds: str(_NAIVE_EPOCH + timedelta(seconds=seconds))


def _history_rows(ticket: Ticket, history) -> list[tuple]:
    return [(ticket, seq, at, state) for seq, at, state in history]
