"""iCalendar (RFC 5545) writing for the change schedule feed. No Django import.

What common calendar programs need to import a feed: CRLF line ends, content lines folded at 75
octets (never inside a UTF-8 character), TEXT values escaped (backslash, semicolon, comma,
newline), and per event a UID, a DTSTAMP and DTSTART/DTEND, here always in UTC (``…Z``) so no
VTIMEZONE block is needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

CRLF = "\r\n"
MAX_OCTETS = 75
PRODID = "-//Servicebook//Change schedule//EN"


@dataclass(frozen=True)
class Event:
    """One calendar entry: a change window."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str = ""
    status: str = "CONFIRMED"  # TENTATIVE | CONFIRMED | CANCELLED
    last_modified: dt.datetime | None = None
    url: str = ""
    categories: tuple[str, ...] = ()


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def utc_stamp(moment: dt.datetime) -> str:
    """A DATE-TIME in UTC form (``20260412T063000Z``); naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("iCalendar times must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold a content line at 75 octets; continuation lines start with one space (§3.1)."""
    data = line.encode("utf-8")
    if len(data) <= MAX_OCTETS:
        return line
    parts: list[str] = []
    current = bytearray()
    limit = MAX_OCTETS
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            parts.append(current.decode("utf-8"))
            current = bytearray()
            limit = MAX_OCTETS - 1  # the leading space of a continuation line counts
        current.extend(encoded)
    parts.append(current.decode("utf-8"))
    return (CRLF + " ").join(parts)


def build_calendar(*, name: str, events: Iterable[Event], now: dt.datetime) -> str:
    """The whole VCALENDAR as text with CRLF line ends."""
    stamp = utc_stamp(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        "X-WR-TIMEZONE:UTC",
    ]
    for event in events:
        if event.end <= event.start:
            raise ValueError(f"event {event.uid} ends before it starts")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(event.start)}",
            f"DTEND:{utc_stamp(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.categories:
            lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in event.categories))
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.last_modified:
            lines.append(f"LAST-MODIFIED:{utc_stamp(event.last_modified)}")
        lines += [f"STATUS:{event.status}", "TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return CRLF.join(fold(line) for line in lines) + CRLF
