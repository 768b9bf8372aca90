"""Ticket intake: parse a ServiceNow incident event log or a generic CSV into ticket histories.

Pure Python (no Django): rows in, :class:`ParsedTicket` objects and rejected rows (with their
reason) out. Placing a ticket on an agreement and writing it is the job of
:func:`servicebook.levels.services.import_tickets`.

ServiceNow ("incident event log")
    One row per update of an incident: the same ``number`` repeated, ordered by
    ``sys_mod_count``. Dates are ``day/month/year hour:minute`` without zero padding
    (``29/2/2016 01:16``), ``?`` means empty, priorities read ``1 - Critical`` … ``4 - Low``,
    impact and urgency ``1 - High`` … ``3 - Low``. Each row becomes one state-history entry
    (``incident_state`` from ``sys_updated_at`` on); the ticket's fields come from its latest row.

Generic CSV (one row per ticket; see docs/service-levels.md)
    ``number``, ``opened_at`` and either ``priority`` or ``impact`` + ``urgency`` are required;
    ``responded_at``, ``resolved_at``, ``closed_at`` and ``pauses`` (``START/END`` pairs separated
    by ``;``, each optionally prefixed ``STATE@``) build the state history.

Timestamps without a UTC offset are read in the import's time zone (``--time-zone``, default
UTC): the server's own time zone is never assumed.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SERVICENOW_REQUIRED = (
    "number",
    "incident_state",
    "sys_mod_count",
    "opened_at",
    "sys_updated_at",
    "impact",
    "urgency",
    "priority",
)
CSV_REQUIRED = ("number", "opened_at")
AGREEMENT_COLUMN = "agreement"

#: The states a ServiceNow incident goes through (anything else is rejected).
SERVICENOW_STATES = (
    "New",
    "Active",
    "Awaiting User Info",
    "Awaiting Vendor",
    "Awaiting Problem",
    "Awaiting Evidence",
    "Resolved",
    "Closed",
)
RESOLVED_STATES = frozenset({"Resolved", "Closed"})
DEFAULT_PAUSE_STATE = "Awaiting User Info"
EMPTY = frozenset({"", "?", "NULL", "null", "None"})


class RowError(ValueError):
    """Why one input row cannot be accepted."""


NUL = "\x00"


def refuse_nul(row: Mapping) -> None:
    """A NUL character is not text: no database stores it (PostgreSQL refuses it), so a row
    holding one is rejected with the column it is in, before anything reads the row."""
    try:  # the common case, all text and no NUL: two joins instead of a loop over the cells
        if NUL not in "".join(row.values()) and NUL not in "".join(row):
            return
    except TypeError:  # a cell that is not text (None, a list of extra cells): look closer
        pass
    for name, value in row.items():
        values = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, str) and NUL in v for v in values) or (
            isinstance(name, str) and NUL in name
        ):
            column = repr(name.replace(NUL, "\\x00")) if isinstance(name, str) else "a column"
            raise RowError(f"{column} contains a NUL character (\\x00), which is not text")


@dataclass
class ParsedTicket:
    """One ticket as read from the input: its fields and its state history.

    ``history`` is a list of ``(sequence, at, state)`` (``at`` in UTC epoch seconds); ``rows``
    the input row numbers it came from; ``agreement`` the reference it should be placed on.
    Times are UTC epoch seconds (``None`` when empty).
    """

    number: str
    agreement: str
    rows: list[int] = field(default_factory=list)
    history: list[tuple[int, int, str]] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    last_sequence: int = -1


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Europe/Paris)"
        ) from None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in EMPTY)


def _text(row: Mapping, name: str) -> str:
    value = row.get(name)
    if value.__class__ is str:  # the common case first: a cell of a CSV file
        text = value.strip()
        return "" if text in EMPTY else text
    return "" if _blank(value) else str(value).strip()


@functools.lru_cache(maxsize=200_000)
def _servicenow_time(text: str, tz: str) -> int:
    """``29/2/2016 01:16`` (day/month/year, no zero padding, optional seconds) → epoch."""
    try:
        day_part, _, time_part = text.strip().partition(" ")
        day, month, year = (int(x) for x in day_part.split("/"))
        pieces = [int(x) for x in time_part.split(":")] if time_part else [0, 0]
        hour, minute = pieces[0], pieces[1]
        second = pieces[2] if len(pieces) > 2 else 0
        if len(pieces) > 3:
            raise ValueError
        moment = datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))
    except (ValueError, IndexError):
        raise RowError(f"{text!r} is not a day/month/year hour:minute date") from None
    return int(moment.timestamp())


@functools.lru_cache(maxsize=200_000)
def _iso_time(text: str, tz: str) -> int:
    """ISO 8601 (``2026-03-02T09:15:00+01:00``, ``2026-03-02 09:15``, ``…Z``) → epoch."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"{text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return int(moment.astimezone(UTC).timestamp())


def _time(row: Mapping, name: str, tz: str, parse, *, required: bool = False) -> int | None:
    value = row.get(name)
    text = value if value.__class__ is str else None  # the common case: a cell of a CSV file
    if text.strip() in EMPTY if text is not None else _blank(value):
        if required:
            raise RowError(f"{name} is empty")
        return None
    try:
        return parse(str(value) if text is None else text, tz)
    except RowError as error:
        raise RowError(f"{name}: {error}") from None


def _level(row: Mapping, name: str, *, low: int = 1, high: int = 5) -> int | None:
    """``1 - High`` / ``2`` → 2; empty → None."""
    text = _text(row, name)
    return _level_of(text, name, low, high) if text else None


@functools.lru_cache(maxsize=1_000)
def _level_of(text: str, name: str, low: int, high: int) -> int:
    head = text.split("-", 1)[0].strip()
    if not head.isdigit() or not low <= int(head) <= high:
        raise RowError(f"{name} {text!r} is not a level {low}-{high} (e.g. '2 - Medium')")
    return int(head)


def _count(row: Mapping, name: str) -> int:
    text = _text(row, name)
    if not text:
        return 0
    if not text.isdigit():
        raise RowError(f"{name} {text!r} is not a whole number")
    return int(text)


def _flag(row: Mapping, name: str) -> bool | None:
    text = _text(row, name).lower()
    if not text:
        return None
    if text in ("true", "1", "yes", "y", "t"):
        return True
    if text in ("false", "0", "no", "n", "f"):
        return False
    raise RowError(f"{name} {text!r} is not true or false")


def check_columns(columns: Iterable[str], fmt: str, *, has_agreement: bool) -> None:
    """Refuse a whole file whose header lacks required columns (ValueError, one line)."""
    if any(NUL in c for c in columns if c):
        raise ValueError("the header contains a NUL character (\\x00), which is not text")
    present = {c.strip() for c in columns if c}
    required = SERVICENOW_REQUIRED if fmt == "servicenow" else CSV_REQUIRED
    missing = [name for name in required if name not in present]
    if fmt == "csv" and "priority" not in present and not {"impact", "urgency"} <= present:
        missing.append("priority (or impact and urgency)")
    if missing:
        raise ValueError(f"missing {fmt} column(s): {', '.join(missing)}")


def _agreement(row: Mapping, default: str | None) -> str:
    reference = _text(row, AGREEMENT_COLUMN) or (default or "")
    if not reference:
        raise RowError("no agreement: give --agreement or an 'agreement' column")
    return reference


def _common_fields(row: Mapping) -> dict:
    return {
        "impact": _level(row, "impact", high=3),
        "urgency": _level(row, "urgency", high=3),
        "source_priority": _level(row, "priority"),
        "category": _text(row, "category")[:100],
        "assignment_group": _text(row, "assignment_group")[:100],
        "contact_type": _text(row, "contact_type")[:40],
        "caller": _text(row, "caller_id")[:100] or _text(row, "caller")[:100],
        "short_description": _text(row, "short_description")[:200],
        "source_made_sla": _flag(row, "made_sla"),
    }


class NotContiguous(Exception):
    """A ticket's rows are not together in the export (read it whole instead: ``contiguous``
    false)."""


def parse_servicenow(
    rows: Iterable[Mapping], *, agreement: str | None, tz: str = "UTC"
) -> tuple[list[ParsedTicket], list[tuple[int, Mapping, str]]]:
    """Group an incident event log into tickets; returns (tickets, rejects).

    ``rejects`` holds ``(row_number, row, reason)`` (row numbers start at 1 after the header).
    Every input row is either part of a ticket or rejected.
    """
    rejects: list[tuple[int, Mapping, str]] = []
    tickets = list(iter_servicenow(rows, agreement=agreement, tz=tz, rejects=rejects))
    return tickets, rejects


def iter_servicenow(
    rows: Iterable[Mapping],
    *,
    agreement: str | None,
    tz: str = "UTC",
    rejects: list,
    contiguous: bool = False,
) -> Iterator[ParsedTicket]:
    """The tickets of an incident event log, each once its rows are read; rejected rows are
    appended to ``rejects`` as ``(row_number, row, reason)``.

    ``contiguous``: the export keeps each ticket's rows together (ServiceNow's is ordered by
    number), so a ticket is yielded as soon as the next one starts and memory holds one ticket;
    a number met again after its ticket was yielded raises :class:`NotContiguous` (the caller
    then reads the file again with ``contiguous`` false). Otherwise every ticket is held until
    the end, as first met.
    """
    zone_of(tz)
    read = _ServiceNowRows(tz, agreement)
    tickets: dict[str, ParsedTicket] = {}
    seen: set = set()  # (number, sequence) read, or the current ticket's sequences
    done: set[str] = set()  # contiguous: the numbers of the tickets already yielded
    current: ParsedTicket | None = None
    for number_in_file, row in enumerate(rows, start=1):
        try:
            number, reference, sequence = read.head(row)
            key = sequence if contiguous else (number, sequence)
            if current is not None and current.number == number:
                ticket: ParsedTicket | None = current
            elif contiguous:
                if number in done:
                    raise NotContiguous(number)
                ticket = None
            else:
                ticket = tickets.get(number)
            if ticket is not None and key in seen:
                raise RowError(f"duplicate row: {number} sys_mod_count {sequence} seen before")
            at, state, fields = read.rest(row)
        except RowError as error:
            rejects.append((number_in_file, row, str(error)))
            continue
        if ticket is None:
            if contiguous:
                if current is not None:
                    done.add(current.number)
                    _finish(current)
                    yield current
                seen.clear()
            ticket = ParsedTicket(number=number, agreement=reference)
            if not contiguous:
                tickets[number] = ticket
            current = ticket
        elif ticket.agreement != reference:
            rejects.append(
                (
                    number_in_file,
                    row,
                    f"{number} is on agreement {ticket.agreement} in earlier rows, not {reference}",
                )
            )
            continue
        else:
            current = ticket
        seen.add(key)
        ticket.rows.append(number_in_file)
        ticket.history.append((sequence, max(at, fields["opened"]), state))
        if sequence > ticket.last_sequence:
            ticket.last_sequence = sequence
            ticket.fields = fields
    if contiguous:
        if current is not None:
            _finish(current)
            yield current
        return
    for ticket in tickets.values():
        _finish(ticket)
        yield ticket


_CACHE_LIMIT = 100_000  # values remembered per kind of cell (then forgotten: memory is bounded)


def _remember(cache: dict, key, value):
    """Store ``value`` under ``key`` in one of the per-import caches and answer it; a cache past
    ``_CACHE_LIMIT`` values is emptied first (memory stays bounded whatever the file)."""
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


class _ServiceNowRows:
    """Reads one row of the event log: ``(number, agreement, sequence, at, state, fields)``, or
    raises :class:`RowError`. The same checks, in the same order, as reading each cell with
    :func:`_text`, :func:`_time`, :func:`_level`…; cells met before (a ticket's dates, levels,
    groups repeat on every row) are answered from per-import caches."""

    def __init__(self, tz: str, agreement: str | None) -> None:
        self.tz, self.agreement = tz, agreement
        self.texts: dict = {}  # raw cell → its text ("" when empty)
        self.times: dict = {}  # raw cell → epoch seconds, or the RowError's text
        self.days: dict = {}  # "d/m/Y" → epoch of its local midnight (False: not a plain day)
        self.levels: dict = {}  # (column, text) → level, or the RowError's text
        self.clock: dict = {}  # "H:M[:S]" → seconds into the day (False: not a plain time)
        self.coded: dict = {}  # the cells of _CODED → their values, or the RowError's text

    def text(self, value) -> str:
        texts = self.texts
        text = texts.get(value) if value.__class__ is str else None
        if text is None:
            if value.__class__ is not str:
                return "" if _blank(value) else str(value).strip()
            text = value.strip()
            text = _remember(texts, value, "" if text in EMPTY else text)
        return text

    def time(self, row: Mapping, name: str, *, required: bool = False) -> int | None:
        value = row.get(name)
        moment = self.times.get(value) if value.__class__ is str else None
        if moment is None:
            moment = self._time(value)
        if moment.__class__ is int:
            return moment
        if moment is _NO_TIME:
            if required:
                raise RowError(f"{name} is empty")
            return None
        raise RowError(f"{name}: {moment}")

    def _time(self, value):
        text = value if value.__class__ is str else None
        if text.strip() in EMPTY if text is not None else _blank(value):
            moment: int | str | object = _NO_TIME
            if text is not None:
                self.times[text] = moment
            return moment
        try:
            moment = self._servicenow_time(str(value) if text is None else text)
        except RowError as error:
            moment = str(error)
        if text is not None:
            _remember(self.times, text, moment)
        return moment

    def _servicenow_time(self, text: str) -> int:
        """:func:`_servicenow_time`, by arithmetic on days with one UTC offset all day."""
        day_part, _, time_part = text.strip().partition(" ")
        base = self.days.get(day_part)
        if base is None:
            base = _remember(self.days, day_part, _plain_day(day_part, self.tz))
        clock = self.clock.get(time_part)
        if clock is None:
            clock = self.clock[time_part] = _plain_clock(time_part)
        if base is not False and clock is not False:
            return base + clock
        return _servicenow_time(text, self.tz)

    def level(self, row: Mapping, name: str, high: int) -> int | None:
        text = self.text(row.get(name))
        if not text:
            return None
        level = self.levels.get((name, text))
        if level is None:
            try:
                level = _level_of(text, name, 1, high)
            except RowError as error:
                level = str(error)
            _remember(self.levels, (name, text), level)
        if level.__class__ is str:
            raise RowError(level)
        return level

    def count(self, row: Mapping, name: str) -> int:
        text = self.text(row.get(name))
        if not text:
            return 0
        if not text.isdigit():
            raise RowError(f"{name} {text!r} is not a whole number")
        return int(text)

    def flag(self, row: Mapping, name: str) -> bool | None:
        text = self.text(row.get(name))
        if not text:
            return None
        flag = _FLAGS.get(text)
        if flag is None:
            return _flag({name: text}, name)
        return flag

    def head(self, row: Mapping) -> tuple[str, str, int]:
        """The row's ticket number, agreement and sequence (read before the duplicate check)."""
        refuse_nul(row)
        text, get = self.text, row.get
        number = text(get("number"))
        if not number:
            raise RowError("number is empty")
        reference = text(get(AGREEMENT_COLUMN)) or (self.agreement or "")
        if not reference:
            raise RowError("no agreement: give --agreement or an 'agreement' column")
        sequence_text = text(get("sys_mod_count"))
        if not sequence_text.isdigit():
            raise RowError(f"sys_mod_count {sequence_text!r} is not a whole number")
        return number, reference, int(sequence_text)

    def rest(self, row: Mapping) -> tuple[int, str, dict]:
        """The row's update time, state and the ticket's fields as of the row."""
        text, get = self.text, row.get
        state = text(get("incident_state"))
        if state not in _STATES:
            raise RowError(f"unknown incident_state {state!r}")
        time = self.time
        opened = time(row, "opened_at", required=True)
        at = time(row, "sys_updated_at", required=True)
        resolved = time(row, "resolved_at")
        closed = time(row, "closed_at")
        if resolved is not None and resolved < opened:  # type: ignore[operator]
            raise RowError("resolved_at is before opened_at")
        coded = self._coded(row)
        fields = {
            **coded,
            "category": text(get("category"))[:100],
            "assignment_group": text(get("assignment_group"))[:100],
            "contact_type": text(get("contact_type"))[:40],
            "caller": text(get("caller_id"))[:100] or text(get("caller"))[:100],
            "short_description": text(get("short_description"))[:200],
            "state": state,
            "opened": opened,
            "resolved": resolved,
            "closed": closed,
            "kind": "incident",
        }
        return at, state, fields  # type: ignore[return-value]

    def _coded(self, row: Mapping) -> dict:
        """The row's levels, flags and counts (read in this order: the first wrong one is the
        row's reason). Few combinations of them occur: each is read once per import."""
        key: tuple | None = tuple(map(row.get, _CODED))
        try:  # cells of text only (1 == True == 1.0 as keys, but not as cells)
            "".join(key)  # type: ignore[arg-type]
            coded = self.coded.get(key)
        except TypeError:
            coded, key = None, None
        if coded is None:
            try:
                level, flag, count = self.level, self.flag, self.count
                coded = {
                    "impact": level(row, "impact", 3),
                    "urgency": level(row, "urgency", 3),
                    "source_priority": level(row, "priority", 5),
                    "source_made_sla": flag(row, "made_sla"),
                    "active": flag(row, "active"),
                    "reassignment_count": count(row, "reassignment_count"),
                    "reopen_count": count(row, "reopen_count"),
                }
            except RowError as error:
                coded = str(error)
            if key is not None:
                _remember(self.coded, key, coded)
        if coded.__class__ is str:
            raise RowError(coded)
        return coded  # type: ignore[return-value]


_NO_TIME = object()  # an empty date cell (cached like the others)
#: The columns of a ServiceNow row holding levels, flags and counts (see ``_coded``).
_CODED = (
    "impact",
    "urgency",
    "priority",
    "made_sla",
    "active",
    "reassignment_count",
    "reopen_count",
)
_STATES = frozenset(SERVICENOW_STATES)
_FLAGS = {
    **dict.fromkeys(("true", "1", "yes", "y", "t"), True),
    **dict.fromkeys(("false", "0", "no", "n", "f"), False),
}


def _ASCII_DIGITS(text: str) -> bool:
    return text.isascii() and text.isdigit()


_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?")


def _plain_clock(time_part: str) -> int | bool:
    """Seconds into the day of ``H:M`` or ``H:M:S`` (ASCII digits, a valid time); False
    otherwise (the general parser decides)."""
    match = _CLOCK.fullmatch(time_part)
    if match is None:
        return False
    hour, minute, second = (int(g or 0) for g in match.groups())
    if hour < 24 and minute < 60 and second < 60:
        return 3600 * hour + 60 * minute + second
    return False


def _plain_day(day_part: str, tz: str) -> int | bool:
    """The epoch of ``d/m/Y``'s local midnight when the day keeps one UTC offset throughout;
    False otherwise (a DST change that day, or not a plain date: the general parser decides)."""
    pieces = day_part.split("/")
    if len(pieces) != 3 or not all(_ASCII_DIGITS(p) for p in pieces):
        return False
    try:
        zone = ZoneInfo(tz)
        day, month, year = (int(p) for p in pieces)
        midnight = datetime(year, month, day, tzinfo=zone)
        last = datetime(year, month, day, 23, 59, 59, tzinfo=zone)
    except ValueError:
        return False
    if midnight.utcoffset() != last.utcoffset():
        return False
    return int(midnight.timestamp())


def _parse_pauses(text: str, tz: str) -> list[tuple[str, int, int | None]]:
    pauses = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        state, _, span = item.rpartition("@")
        start_text, sep, end_text = span.partition("/")
        if not sep or not start_text.strip():
            raise RowError(f"pause {item!r} is not START/END (ISO 8601)")
        start = _iso_time(start_text, tz)
        end = _iso_time(end_text, tz) if end_text.strip() else None
        if end is not None and end < start:
            raise RowError(f"pause {item!r} ends before it starts")
        pauses.append((state.strip() or DEFAULT_PAUSE_STATE, start, end))
    return pauses


def parse_csv(
    rows: Iterable[Mapping], *, agreement: str | None, tz: str = "UTC"
) -> tuple[list[ParsedTicket], list[tuple[int, Mapping, str]]]:
    """Read the generic one-row-per-ticket CSV; returns (tickets, rejects)."""
    rejects: list[tuple[int, Mapping, str]] = []
    return list(iter_csv(rows, agreement=agreement, tz=tz, rejects=rejects)), rejects


def iter_csv(
    rows: Iterable[Mapping],
    *,
    agreement: str | None,
    tz: str = "UTC",
    rejects: list,
    contiguous: bool = False,
) -> Iterator[ParsedTicket]:
    """The tickets of a generic CSV, each as its row is read (``contiguous`` changes nothing: a
    ticket is one row); rejected rows are appended to ``rejects``."""
    zone_of(tz)
    tickets: set[str] = set()  # the numbers read, for the duplicate check
    for number_in_file, row in enumerate(rows, start=1):
        try:
            refuse_nul(row)
            number = _text(row, "number")
            if not number:
                raise RowError("number is empty")
            if number in tickets:
                raise RowError(f"duplicate row: {number} appears earlier in the file")
            reference = _agreement(row, agreement)
            opened = _time(row, "opened_at", tz, _iso_time, required=True)
            responded = _time(row, "responded_at", tz, _iso_time)
            resolved = _time(row, "resolved_at", tz, _iso_time)
            closed = _time(row, "closed_at", tz, _iso_time)
            for name, value in (("responded_at", responded), ("resolved_at", resolved)):
                if value is not None and value < opened:
                    raise RowError(f"{name} is before opened_at")
            if closed is not None and resolved is None:
                resolved = closed
            pauses = _parse_pauses(_text(row, "pauses"), tz)
            kind = _text(row, "kind") or "incident"
            if kind not in ("incident", "request"):
                raise RowError(f"kind {kind!r} is not incident or request")
            fields = _common_fields(row)
            if fields["source_priority"] is None and None in (fields["impact"], fields["urgency"]):
                raise RowError("no priority, and impact or urgency is empty")
            events: list[tuple[int, int, str]] = [(opened, 0, "New")]
            if responded is not None:
                events.append((responded, 1, "Active"))
            for state, start, end in pauses:
                events.append((max(start, opened), 2, state))
                if end is not None:
                    events.append((max(end, opened), 3, "Active"))
            if resolved is not None:
                events.append((resolved, 4, "Resolved"))
            if closed is not None:
                events.append((closed, 5, "Closed"))
            events.sort()
            state = _text(row, "state") or events[-1][2]
            fields.update(
                state=state,
                active=resolved is None,
                opened=opened,
                resolved=resolved,
                closed=closed,
                reassignment_count=_count(row, "reassignment_count"),
                reopen_count=_count(row, "reopen_count"),
                kind=kind,
            )
        except RowError as error:
            rejects.append((number_in_file, row, str(error)))
            continue
        ticket = ParsedTicket(number=number, agreement=reference, rows=[number_in_file])
        ticket.history = [(i, at, st) for i, (at, _, st) in enumerate(events)]
        ticket.last_sequence = len(events) - 1
        ticket.fields = fields
        tickets.add(number)
        _finish(ticket)
        yield ticket


def _finish(ticket: ParsedTicket) -> None:
    """Order the history and settle the resolution time from it when the source has none."""
    ticket.history.sort()
    fields = ticket.fields
    if fields.get("resolved") is None and ticket.history[-1][2] in RESOLVED_STATES:
        # resolved (or closed) without a resolution time: the start of the final resolved run
        at = ticket.history[-1][1]
        for _, moment, state in reversed(ticket.history):
            if state not in RESOLVED_STATES:
                break
            at = moment
        fields["resolved"] = max(at, fields["opened"])
    if fields.get("active") is None:
        fields["active"] = ticket.history[-1][2] not in RESOLVED_STATES


class CsvFile:
    """A CSV file read one row at a time (``reader``, a ``csv.DictReader``), and how far the
    reading got as a share of the file's bytes (``share()``): the progress of an import whose
    number of rows is not known until the end (the file is never counted first)."""

    def __init__(self, path: Path) -> None:
        self.size = max(1, path.stat().st_size)
        self.raw = path.open("rb")
        self.handle = io.TextIOWrapper(self.raw, encoding="utf-8-sig", newline="")
        self.reader = csv.DictReader(self.handle)

    def share(self) -> float:
        """0-1: the bytes read so far (in blocks of the text layer: approximate, never back)."""
        return min(1.0, self.raw.tell() / self.size)

    def close(self) -> None:
        self.handle.close()

    @classmethod
    def rows(cls, path: Path) -> Iterator[dict]:
        """The file's rows once more, one at a time (an import's second reading)."""
        with cls(path) as file:
            yield from file.reader

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
