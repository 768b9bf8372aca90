"""What the search box finds among agreements (``ports.search_sources``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.core.search import text_search
from servicebook.ports import SearchHit, SearchSource


def agreements(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        Agreement.objects.visible_to(user).select_related("customer"),
        text,
        ("reference", "title", "notes", "customer__name"),
    )
    return [
        SearchHit(
            f"{a.reference} {a.title}",
            reverse("agreements:detail", args=[a.pk]),
            f"{a.customer.name} · {a.get_status_display()}",
        )
        for a in rows[:limit]
    ]


SOURCES = [SearchSource("Agreements", agreements, more="agreements:list")]
