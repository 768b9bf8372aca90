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


class SQLiteTextIndex(Operation):
    """A migration operation: on SQLite, an FTS5 table named ``name`` with the trigram tokenizer
    over ``fields`` of ``model_name`` (an external-content table: it stores the index, not the
    text), kept by triggers on the model's table and filled from its rows. A trigram index finds
    any substring of three characters or more, ignoring case, as ``icontains`` does, without
    reading every row: see :func:`sqlite_matches`. Nothing on other databases.

    Django rebuilds a SQLite table (new table, copy, drop, rename) for some later changes of the
    model; its triggers go with the old table. ``tests/test_search_sqlite.py`` fails when a
    migration leaves the index without its triggers: run this operation again after it."""

    reversible = True

    def __init__(self, model_name: str, name: str, fields: tuple[str, ...]):
        self.model_name, self.name, self.fields = model_name, name, tuple(fields)

    def deconstruct(self):
        kwargs = {"model_name": self.model_name, "name": self.name, "fields": self.fields}
        return type(self).__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def statements(self, table: str, columns: list[str]) -> list[str]:
        index, cols = self.name, ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        delete = f"INSERT INTO {index}({index}, rowid, {cols}) VALUES ('delete', old.id, {old});"
        insert = f"INSERT INTO {index}(rowid, {cols}) VALUES (new.id, {new});"
        return [
            f"CREATE VIRTUAL TABLE {index} USING fts5({cols}, content='{table}', "
            "content_rowid='id', tokenize='trigram')",
            f"CREATE TRIGGER {index}_inserted AFTER INSERT ON {table} BEGIN {insert} END",
            f"CREATE TRIGGER {index}_deleted AFTER DELETE ON {table} BEGIN {delete} END",
            f"CREATE TRIGGER {index}_updated AFTER UPDATE OF {cols} ON {table} "
            f"BEGIN {delete} {insert} END",
            f"INSERT INTO {index}({index}) VALUES ('rebuild')",
        ]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            model = to_state.apps.get_model(app_label, self.model_name)
            columns = [model._meta.get_field(f).column for f in self.fields]
            for sql in self.statements(model._meta.db_table, columns):
                schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            for trigger in ("inserted", "deleted", "updated"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {self.name}_{trigger}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {self.name}")

    def describe(self) -> str:
        return f"Text index {self.name} on {self.model_name} (SQLite)"


#: Matches read from a SQLite text index first, newest first: enough for a page of results
#: in nearly every search; all of them only when these leave the page short.
FIRST_MATCHES = 2_000


def sqlite_matches(queryset: QuerySet, text: str, index: str, limit: int) -> list | None:
    """The first ``limit`` rows of ``queryset`` (ordered newest first by primary key) whose
    indexed fields contain ``text``, found through the SQLite text index ``index`` (see
    :class:`SQLiteTextIndex`); None when the index cannot answer (not SQLite, fewer than three
    characters: the caller searches with ``icontains``). The newest ``FIRST_MATCHES`` matches
    are tried first: a common word matches hundreds of thousands of rows, which are read only
    when the newest ones leave fewer than ``limit`` rows the reader may see."""
    from django.db.models.expressions import RawSQL

    text = text.strip()
    if connections[queryset.db].vendor != "sqlite" or len(text) < 3:
        return None
    phrase = '"' + text.replace('"', '""') + '"'
    matches = f"SELECT rowid FROM {index} WHERE {index} MATCH %s ORDER BY rowid DESC"
    first = queryset.filter(pk__in=RawSQL(f"{matches} LIMIT {FIRST_MATCHES}", [phrase]))
    found = list(first[:limit])
    if len(found) < limit:
        found = list(queryset.filter(pk__in=RawSQL(matches, [phrase]))[:limit])
    return found
