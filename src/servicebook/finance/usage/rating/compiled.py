"""Rating's work that depends only on the price catalogue, done once while it is unchanged.

Checking the prices and tiers, the plan of the month (:func:`make_plan`), building the Ibis
expression and compiling it to SQL cost about a tenth of a second a run whatever the usage, a
tenth of a 20-million-record rating on DuckDB.  They are pure functions of the price and tier
tables, the period, the engine and the usage's schema, so they are kept under a *fingerprint* of
exactly those: a SHA-256 of the tables' Arrow IPC bytes (every value and type) and of the other
inputs.  Any change to a price row, a validity, a tier or the period is another fingerprint, so
another entry; nothing is ever invalidated by hand.  The SQL of a query names the in-memory
tables it reads (the price rows, short lists of offerings); those are kept with it and handed to
the engine again on each run.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

#: entries kept in each store; the least recently used goes first
KEEP = 16

T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    """A compiled rating query: its SQL, the Arrow schema of its rows and the in-memory tables
    its SQL reads, by the name it gives them."""

    sql: str
    schema: pa.Schema
    tables: tuple[tuple[str, pa.Table], ...]


class Store:
    """A small least-recently-used map, safe to share between threads."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str | None, build: Callable[[], T]) -> T:
        """The entry under ``key``, built (and kept) when absent; built afresh, never kept, when
        ``key`` is None.  An exception while building keeps nothing."""
        if key is None:
            return build()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


#: checked price catalogues (plan and units), by :func:`fingerprint` of prices, tiers and period
catalogues = Store()
#: compiled queries, by fingerprint of the catalogue, engine, usage table and its schema
queries = Store()


def fingerprint(*parts: pa.Table | str) -> str:
    """SHA-256 over ``parts``: tables by their Arrow IPC bytes (schema and every value), strings
    as UTF-8, each prefixed by its length."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, pa.Table):
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, part.schema) as writer:
                writer.write_table(part.combine_chunks())
            data = sink.getvalue().to_pybytes()
        else:
            data = part.encode()
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def compile_query(con: ibis.BaseBackend, expr: ir.Table) -> Query:
    """``expr`` compiled for ``con``, with the in-memory tables it reads."""
    tables = tuple(
        (op.name, op.data.to_pyarrow(op.schema)) for op in expr.op().find(ops.InMemoryTable)
    )
    return Query(con.compile(expr), expr.schema().to_pyarrow(), tables)


def run(con: ibis.BaseBackend, query: Query) -> pa.Table:
    """The rows of ``query`` as Arrow, its in-memory tables handed to the engine first.

    On Spark straight from the engine's Arrow batches: Ibis' own path for Spark goes through
    pandas, row objects and Python decimals, which cost more than the query on a few hundred
    thousand lines."""
    if con.name == "pyspark":
        session = con._session
        for name, table in query.tables:
            session.createDataFrame(table).createOrReplaceTempView(name)
        out = session.sql(query.sql).toArrow()
    else:
        duck = con.con
        # those Ibis registered itself (a caller's own memtable) stay; the others go afterwards
        ibis_own = {m.name for m in getattr(con, "_memtables", ())}
        for name, table in query.tables:
            duck.register(name, table)
        try:
            out = duck.sql(query.sql).to_arrow_table()
        finally:
            for name, _ in query.tables:
                if name not in ibis_own:
                    duck.unregister(name)
    return out.cast(query.schema)
