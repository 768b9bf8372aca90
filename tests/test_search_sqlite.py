"""The SQLite text index of the tickets (``core.search.SQLiteTextIndex``, levels 0007): it is
there with its triggers after every migration, it answers what ``icontains`` answers, and it
follows tickets created, changed and deleted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from servicebook.core.search import sqlite_matches, text_search
from servicebook.levels import search
from servicebook.levels.models import Ticket

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")


def _names(kind: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
        return {row[0] for row in cursor.fetchall()}


def test_the_index_and_its_triggers_survive_every_migration(db):
    """A later migration that makes Django rebuild the ticket table drops its triggers: run
    ``SQLiteTextIndex`` again in that migration."""
    assert search.TEXT_INDEX in _names("table")
    triggers = {f"{search.TEXT_INDEX}_{what}" for what in ("inserted", "deleted", "updated")}
    assert triggers <= _names("trigger")


def _both(text: str, limit: int = 11):
    tickets = Ticket.objects.order_by("-pk")
    plain = list(text_search(tickets, text, search.FIELDS)[:limit])
    return sqlite_matches(tickets, text, search.TEXT_INDEX, limit), plain


@pytest.mark.parametrize("text", ["INC", "inc00", "error", "ERROR", "Network", "%", "a_b", "xyzzy"])
def test_the_index_answers_what_contains_answers(db, text):
    indexed, plain = _both(text)
    if len(text) < 3:
        assert indexed is None  # too short for trigrams: the caller searches with contains
    else:
        assert indexed == plain


def test_the_index_follows_created_changed_and_deleted_tickets(db):
    model = Ticket.objects.first()
    ticket = Ticket.objects.create(
        agreement=model.agreement,
        source="test",
        number="ZQ-1",
        short_description='Printer "Heron" is jammed',
        state="New",
        priority=3,
        opened_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    assert _both("heron") == ([ticket], [ticket])
    assert _both('"heron"') == ([ticket], [ticket])  # quotes are text, not query syntax
    ticket.short_description = "Scanner offline"
    ticket.save()
    assert _both("heron") == ([], [])
    assert _both("SCANNER off") == ([ticket], [ticket])
    Ticket.objects.filter(pk=ticket.pk).update(category="Kestrel hardware")
    assert _both("kestrel") == ([ticket], [ticket])
    ticket.delete()
    assert _both("scanner off") == ([], [])


def test_a_page_of_matches_when_the_newest_are_not_the_readers(db, monkeypatch):
    """The newest matches are read first; when too few of them are the reader's, all are."""
    monkeypatch.setattr("servicebook.core.search.FIRST_MATCHES", 1)
    tickets = Ticket.objects.order_by("-pk")
    newest = tickets.first()
    others = tickets.exclude(agreement=newest.agreement)
    text = "INC" if others.filter(number__icontains="INC").exists() else others.first().number
    assert sqlite_matches(others, text, search.TEXT_INDEX, 3) == list(
        text_search(others, text, search.FIELDS)[:3]
    )
