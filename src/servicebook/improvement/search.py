"""What the search box finds in the improvement register (``ports.search_sources``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.search import text_search
from servicebook.improvement.models import Improvement
from servicebook.ports import SearchHit, SearchSource


def improvements(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        Improvement.objects.visible_to(user).select_related("customer"),
        text,
        ("title", "description"),
    )
    return [
        SearchHit(
            i.title,
            reverse("improvement:detail", args=[i.pk]),
            f"{i.customer.name if i.customer_id else ''} · {i.get_status_display()}".strip(" ·"),
        )
        for i in rows[:limit]
    ]


SOURCES = [SearchSource("Improvements", improvements, more="improvement:list")]
