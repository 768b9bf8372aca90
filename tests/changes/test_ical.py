"""The change schedule feed imports into calendar programs: RFC 5545 structure, checked here
without third-party packages (BEGIN/END, UID, DTSTAMP, UTC times, folding, CRLF)."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse

from servicebook.changes import ical, services
from servicebook.changes.models import ChangeRequest

UTC_TIME = re.compile(r"^\d{8}T\d{6}Z$")


def parse(text: str) -> list[dict[str, str]]:
    """Check the structure and return the VEVENTs as {property: value} (raises on error)."""
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n"), "content lines end with CRLF"
    assert b"\n" not in raw.replace(b"\r\n", b""), "no bare LF"
    physical = raw.split(b"\r\n")[:-1]
    for line in physical:
        assert len(line) <= 75, f"line longer than 75 octets: {line!r}"
        line.decode("utf-8")  # folding never splits a UTF-8 character
    lines: list[str] = []
    for line in (p.decode("utf-8") for p in physical):
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    stack: list[str] = []
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        name, _, value = line.partition(":")
        assert name and _, f"not a content line: {line!r}"
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                current = {}
        elif name == "END":
            assert stack and stack.pop() == value, f"unbalanced END:{value}"
            if value == "VEVENT":
                events.append(current)
                current = None
        elif current is not None:
            current[name.split(";")[0]] = value
    assert not stack, "every BEGIN has its END"
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    for event in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert required in event, f"VEVENT without {required}"
        for stamp in ("DTSTAMP", "DTSTART", "DTEND"):
            assert UTC_TIME.match(event[stamp]), f"{stamp} not in UTC: {event[stamp]}"
        assert event["DTEND"] > event["DTSTART"]
    assert len({e["UID"] for e in events}) == len(events), "UIDs are unique"
    return events


def test_fold_and_escape():
    line = "DESCRIPTION:" + "é" * 100
    folded = ical.fold(line)
    parts = folded.encode("utf-8").split(b"\r\n")
    assert all(len(p) <= 75 for p in parts) and len(parts) > 2
    assert "".join(p.decode()[1:] if i else p.decode() for i, p in enumerate(parts)) == line
    assert ical.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_build_calendar_refuses_naive_and_backwards_times():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    backwards = ical.Event(uid="x", start=now, end=now, summary="x")
    for event in (backwards,):
        try:
            ical.build_calendar(name="x", events=[event], now=now)
        except ValueError:
            pass
        else:  # pragma: no cover
            raise AssertionError("accepted an event that ends when it starts")
    try:
        ical.utc_stamp(dt.datetime(2026, 1, 1))
    except ValueError:
        pass
    else:  # pragma: no cover
        raise AssertionError("accepted a naive time")


def test_feed_imports_and_lists_the_customers_scheduled_changes(client, customers):
    marketing = customers["marketing"]
    response = client.get(reverse("changes:feed", args=[marketing.change_feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = parse(response.content.decode("utf-8"))
    storage = ChangeRequest.objects.get(title="Storage tier upgrade to NVMe")
    summaries = {e["SUMMARY"] for e in events}
    assert f"{storage.reference} Storage tier upgrade to NVMe" in summaries
    assert not any("Payroll" in s for s in summaries)  # Finance's change, not Marketing's
    assert any("Regression-test" in e.get("DESCRIPTION", "") for e in events)


def test_external_feed_has_no_cost_and_no_other_customer(client, customers):
    sky = customers["skybridge"]
    body = client.get(reverse("changes:feed", args=[sky.change_feed.token])).content.decode()
    events = parse(body)
    assert events
    assert "cost" not in body.lower() and "Marketing" not in body and "Clara" not in body


def test_rotated_token_stops_working(client, customers, users):
    marketing = customers["marketing"]
    old = marketing.change_feed.token
    services.rotate_feed(actor=users["change"], customer=marketing)
    assert client.get(reverse("changes:feed", args=[old])).status_code == 404
    assert client.get(reverse("changes:feed", args=["not-a-token"])).status_code == 404
