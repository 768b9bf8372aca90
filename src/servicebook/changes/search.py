"""What the search box finds among requests for change (``ports.search_sources``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.changes.models import ChangeRequest
from servicebook.core.search import text_search
from servicebook.ports import SearchHit, SearchSource


def changes(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        ChangeRequest.objects.visible_to(user), text, ("reference", "title", "description")
    )
    return [
        SearchHit(
            f"{c.reference} {c.title}",
            reverse("changes:detail", args=[c.pk]),
            c.get_status_display(),
        )
        for c in rows[:limit]
    ]


SOURCES = [SearchSource("Changes", changes, more="changes:list")]
