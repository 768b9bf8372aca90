"""What the search box finds among demand and investment requests (``ports.search_sources``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.search import text_search
from servicebook.demand.models import DemandRequest
from servicebook.ports import SearchHit, SearchSource


def demands(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        DemandRequest.objects.visible_to(user).select_related("customer"),
        text,
        ("reference", "title", "description", "customer__name"),
    )
    return [
        SearchHit(
            f"{d.reference} {d.title}",
            reverse("demand:detail", args=[d.pk]),
            f"{d.customer.name} · {d.get_status_display()}",
        )
        for d in rows[:limit]
    ]


SOURCES = [SearchSource("Demands", demands, more="demand:list")]
