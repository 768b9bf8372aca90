"""What the search box finds among tickets (``ports.search_sources``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.search import sqlite_matches, text_search
from servicebook.levels.models import Ticket
from servicebook.ports import SearchHit, SearchSource

#: What the search box matches (levels 0006 indexes them on PostgreSQL, 0007 on SQLite in
#: ``TEXT_INDEX``: change them together).
FIELDS = ("number", "short_description", "category")
#: The SQLite text index of the tickets (``core.search.SQLiteTextIndex``, levels 0007): without
#: it a search read every ticket (a million: half a second, issue 14).
TEXT_INDEX = "levels_ticket_text"


def tickets(user, text: str, limit: int) -> list[SearchHit]:
    # newest first by id, not by the model's opened_at: ordered by that index, SQLite read a
    # million tickets in index order (issue 14: seconds); by id it scans the table once and stops
    # at ``limit`` matches (PostgreSQL orders by rank anyway)
    tickets = Ticket.objects.visible_to(user).select_related("agreement").order_by("-pk")
    rows = sqlite_matches(tickets, text, TEXT_INDEX, limit)
    if rows is None:
        rows = text_search(tickets, text, FIELDS)[:limit]
    return [
        SearchHit(
            f"{t.number} {t.short_description}".strip(),
            reverse("levels:ticket", args=[t.pk]),
            f"{t.agreement.reference} · P{t.priority} · {t.state}",
        )
        for t in rows
    ]


SOURCES = [SearchSource("Tickets", tickets)]
