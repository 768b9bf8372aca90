"""Text search on a queryset: PostgreSQL full-text search where the database has it, a plain
case-insensitive ``contains`` everywhere (numbers and codes are matched as substrings on every
database, so ``INV-2026`` finds ``INV-2026-0003``). SQLite has no full-text search without an
FTS5 table per model; the plain fallback is what runs there (decision 0016)."""

from __future__ import annotations

from django.db import connections
from django.db.models import Q, QuerySet

#: Longer search texts are refused with a message (they are pasted paragraphs, not a search).
MAX_QUERY = 100


def text_search(queryset: QuerySet, text: str, fields: tuple[str, ...]) -> QuerySet:
    """Rows of ``queryset`` whose ``fields`` contain ``text`` (or, on PostgreSQL, match it as
    words in any order and form), best matches first on PostgreSQL."""
    text = text.strip()
    contains = Q()
    for field in fields:
        contains |= Q(**{f"{field}__icontains": text})
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(contains)
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = SearchVector(*fields, config="simple")
    query = SearchQuery(text, search_type="plain", config="simple")
    return (
        queryset.annotate(search_vector=vector, search_rank=SearchRank(vector, query))
        .filter(Q(search_vector=query) | contains)
        .order_by("-search_rank", "pk")
    )
