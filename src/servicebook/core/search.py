"""Text search on a queryset: PostgreSQL full-text search where the database has it, a plain
case-insensitive ``contains`` everywhere (numbers and codes are matched as substrings on every
database, so ``INV-2026`` finds ``INV-2026-0003``). SQLite has no full-text search without an
FTS5 table per model; the plain fallback is what runs there (decision 0016)."""

from __future__ import annotations

from django.db import connections
from django.db.migrations.operations.base import Operation
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


class SearchIndexes(Operation):
    """A migration operation: on PostgreSQL, the indexes that let :func:`text_search` (and a
    list's ``contains`` filter) on ``model_name`` use an index instead of reading every row: a
    GIN index on the full-text vector of ``vector`` (the fields ``text_search`` is given, in the
    same order, so the expression is the query's) and a trigram GIN index (``pg_trgm``) on the
    upper-cased text of each of ``contains``, which serves ``icontains``. A million tickets were
    read for each search box query without them (issue 14). Nothing on other databases; the
    model's state does not change (PostgreSQL-only indexes are not declared on the model).
    Needs ``TrigramExtension()`` before it."""

    reversible = True

    def __init__(
        self, model_name: str, name: str, vector: tuple[str, ...], contains: tuple[str, ...]
    ):
        self.model_name, self.name = model_name, name
        self.vector, self.contains = tuple(vector), tuple(contains)

    def deconstruct(self):
        kwargs = {"model_name": self.model_name, "name": self.name}
        return type(self).__name__, [], {**kwargs, "vector": self.vector, "contains": self.contains}

    def state_forwards(self, app_label, state):
        pass

    def indexes(self) -> list:
        from django.contrib.postgres.indexes import GinIndex, OpClass
        from django.contrib.postgres.search import SearchVector
        from django.db.models.functions import Upper

        found = [GinIndex(SearchVector(*self.vector, config="simple"), name=f"{self.name}_words")]
        for field in self.contains:
            trigrams = OpClass(Upper(field), name="gin_trgm_ops")
            found.append(GinIndex(trigrams, name=f"{self.name}_{field}"[:30]))
        return found

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = to_state.apps.get_model(app_label, self.model_name)
            for index in self.indexes():
                schema_editor.add_index(model, index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = from_state.apps.get_model(app_label, self.model_name)
            for index in self.indexes():
                schema_editor.remove_index(model, index)

    def describe(self) -> str:
        return f"Search indexes on {self.model_name} (PostgreSQL)"
