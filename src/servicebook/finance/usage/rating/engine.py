"""Rating on an engine: the backend (DuckDB embedded, or PySpark), the tables handed to it, and
:func:`rate`, which checks the inputs, runs the expressions and finishes the lines."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from servicebook.core.money import MINOR_UNITS
from servicebook.finance.usage.rating import compiled, expressions, layout
from servicebook.finance.usage.rating.checks import check_prices, check_tiers, offering_units
from servicebook.finance.usage.rating.expressions import (
    Plan,
    from_reduced,
    line_amounts,
    line_totals,
    make_plan,
    price_lines,
    register,
)
from servicebook.finance.usage.rating.finish import finish
from servicebook.finance.usage.rating.schema import (
    AMOUNT_TYPE,
    PRICE_SCHEMA,
    TIER_SCHEMA,
    USAGE_COLUMNS,
    RatingInputError,
    TableLike,
    conform,
)


def connect(backend: Any) -> ibis.BaseBackend:
    """Turn ``"duckdb"``, ``"pyspark"`` or an Ibis backend into a configured backend."""
    if isinstance(backend, str):
        name = backend.lower()
        if name == "duckdb":
            con = ibis.duckdb.connect()
        elif name in {"pyspark", "spark"}:
            from pyspark.sql import SparkSession

            session = (
                SparkSession.builder.master("local[2]")
                .appName("servicebook-rating")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate()
            )
            con = ibis.pyspark.connect(session)
        else:
            raise ValueError(f"unknown backend {backend!r}: use 'duckdb', 'pyspark' or a backend")
    elif isinstance(backend, ibis.BaseBackend):
        con = backend
    else:
        raise TypeError(f"backend must be a name or an Ibis backend, got {type(backend).__name__}")
    if con.name == "duckdb":
        con.raw_sql("SET TimeZone = 'UTC'")
        con.raw_sql("SET enable_progress_bar = false")
    elif con.name == "pyspark":
        # exact decimal products (scale s1 + s2, overflow is an error) as on DuckDB
        con._session.conf.set("spark.sql.decimalOperations.allowPrecisionLoss", "false")
        con._session.conf.set("spark.sql.session.timeZone", "UTC")
    return con


def as_arrow(obj: TableLike, con: ibis.BaseBackend) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, str | Path):
        import pyarrow.parquet as pq

        return pq.read_table(str(obj))
    return con.to_pyarrow(obj)


def usage_table(usage: TableLike, con: ibis.BaseBackend) -> tuple[ir.Table, str | None]:
    """``usage`` as an Ibis table of ``con`` with the types rating expects, and, for Parquet
    files, what its compiled query depends on (the name of the view over them and their schema
    as read now); None for other usage, whose queries are not kept."""
    if isinstance(usage, pa.Table):
        missing = set(USAGE_COLUMNS) - set(usage.column_names)
        if missing:
            raise RatingInputError(f"usage lacks columns {sorted(missing)}")
        schema = pa.schema(list(USAGE_COLUMNS.items()))
        return register(con, conform(usage, schema, "usage")), None
    source = None
    if isinstance(usage, str | Path):
        # one view name per path, so that the SQL compiled for it can be run again
        name = "servicebook_rating_usage_" + hashlib.sha256(str(usage).encode()).hexdigest()[:24]
        t = con.read_parquet(str(usage), table_name=name)
        source = f"{name}\n{t.schema()!r}"
    else:
        t = usage
    casts = {}
    for name, typ in USAGE_COLUMNS.items():
        if name not in t.columns:
            raise RatingInputError(f"usage lacks column {name!r}")
        want = ibis.dtype(typ)
        if t[name].type() != want:
            casts[name] = t[name].cast(want)
    return (t.mutate(**casts) if casts else t), source


def _of_customers(
    usage_t: ir.Table, customers: Collection[int], con: ibis.BaseBackend
) -> tuple[ir.Table, str]:
    """``usage_t`` restricted to ``customers`` (a join to their ids: one hash probe a record),
    and the fingerprint of those ids, which a kept query depends on."""
    ids = pa.table({"customer_id": pa.array(sorted(set(customers)), pa.int64())})
    digest = compiled.fingerprint(ids)
    wanted = register(con, ids, f"servicebook_rating_customers_{digest[:24]}")
    return usage_t.join(wanted, "customer_id"), digest


@dataclass(frozen=True)
class Catalogue:
    """Checked prices and tiers for a period, with what rating derives from them."""

    key: str  # compiled.fingerprint of prices, tiers and period
    prices: pa.Table
    tiers: pa.Table
    plan: Plan
    units: Mapping[int, str]


def catalogue(prices: pa.Table, tiers: pa.Table, period: str) -> Catalogue:
    """The checked catalogue of ``prices`` and ``tiers`` for ``period``, kept by fingerprint (see
    :mod:`.compiled`): checked again only when one of them changes."""
    key = compiled.fingerprint(prices, tiers, period)

    def build() -> Catalogue:
        check_prices(prices)
        units = offering_units(prices)
        check_tiers(
            tiers, {t for t in pc.unique(prices["tier_set_id"]).to_pylist() if t is not None}
        )
        return Catalogue(key, prices, tiers, make_plan(prices, period), units)

    return compiled.catalogues.get(key, build)


def rate(
    backend: Any,
    usage: TableLike,
    prices: TableLike,
    tiers: TableLike | None,
    period: str,
    *,
    minor_units: Mapping[str, int] | None = None,
    customers: Collection[int] | None = None,
) -> pa.Table:
    """Rate ``usage`` for ``period`` and return charge lines (:data:`CHARGE_LINE_SCHEMA`).

    ``backend`` is ``"duckdb"`` (embedded, default choice), ``"pyspark"`` (a local session is
    created or reused) or an Ibis backend connection (``ibis.duckdb.connect(...)``,
    ``ibis.pyspark.connect(spark)``).  ``usage`` may be an Arrow table, a Parquet path or glob
    (e.g. ``UsageStore.parquet_glob(period)``) or an Ibis table of that backend; ``prices`` and
    ``tiers`` are small and are checked in Python first (see :class:`RatingInputError`).
    Lines are sorted by customer, offering and price_id; unrated lines last within a pair.
    ``customers``: rate only these customers' usage (a period close, chunk by chunk: the
    others' records never reach the aggregation); None: everybody's.

    For Parquet usage the compiled query is kept while the prices, tiers, period, engine and the
    files' schema and order (:mod:`.layout`) are unchanged (:mod:`.compiled`): a second month's
    run skips Ibis.
    """
    con = connect(backend)
    minor = {**MINOR_UNITS, **(minor_units or {})}
    if any(not 0 <= d <= AMOUNT_TYPE.scale for d in minor.values()):
        raise RatingInputError(f"minor units must be 0 to {AMOUNT_TYPE.scale}: {minor_units}")
    prices_pa = conform(as_arrow(prices, con), PRICE_SCHEMA, "prices")
    tiers_pa = conform(
        as_arrow(tiers, con) if tiers is not None else TIER_SCHEMA.empty_table(),
        TIER_SCHEMA,
        "tiers",
    )
    cat = catalogue(prices_pa, tiers_pa, period)
    usage_t, source = usage_table(usage, con)
    # a record without a quantity is no usage (the import refuses them): the same on every engine
    usage_t = usage_t.filter(usage_t.quantity.notnull())
    if customers is not None:
        usage_t, only = _of_customers(usage_t, customers, con)
        source = source and f"{source}\ncustomers={only}"
    # the tier join materializes a temporary table: that query is not kept
    inline = tiers_pa.num_rows <= expressions.INLINE_TIER_ROWS
    cleanup: list[Callable[[], None]] = []
    try:
        if con.name == "pyspark":
            key = compiled.fingerprint(cat.key, "reduce", source) if source else None
            out = _reduce_then_price(con, usage_t, cat, key, inline, cleanup)
        else:
            # Parquet in time order is read one price segment at a time (see .layout)
            ordered = isinstance(usage, str | Path) and layout.time_ordered(
                usage, cat.plan.seg_starts[1:]
            )
            key = (
                compiled.fingerprint(cat.key, con.name, source, f"time_ordered={ordered}")
                if source and inline
                else None
            )
            prices_t = register(con, cat.prices, f"servicebook_rating_prices_{cat.key[:24]}")

            def build() -> compiled.Query:
                totals = line_totals(usage_t, prices_t, cat.plan, ordered)
                return compiled.compile_query(
                    con, line_amounts(totals, cat.plan, con, cleanup, cat.tiers)
                )

            out = compiled.run(con, compiled.queries.get(key, build))
    finally:
        for fn in cleanup:
            fn()
    return finish(out, cat.prices, cat.plan, minor, cat.units, presorted=True)


def _reduce_then_price(
    spark: ibis.BaseBackend,
    usage_t: ir.Table,
    cat: Catalogue,
    key: str | None,
    inline: bool,
    cleanup: list[Callable[[], None]],
) -> pa.Table:
    """Rating on Spark: the cluster reads the records and hands back their reduction
    (:func:`.expressions.reduce_records`), a few rows per customer and offering, as Arrow; the
    driver prices those rows with the same expressions on an embedded DuckDB
    (:func:`.expressions.from_reduced`, then the pricing every engine shares) -- the lines come
    to the driver anyway, and pricing them there costs a tenth of a second where Spark's
    decimal arithmetic took seconds (decision 0034).  Both compiled queries are kept: the
    reduction under ``key`` (the usage files' and the catalogue's), the pricing under the
    catalogue's alone."""
    reduce_q = compiled.queries.get(
        key, lambda: compiled.compile_query(spark, expressions.reduce_records(usage_t, cat.plan))
    )
    reduced = compiled.run(spark, reduce_q)
    duck = connect("duckdb")
    # named before the pricing is built: the many-tiers path materializes a table from it
    duck.con.register(expressions.REDUCED, reduced)
    try:

        def build() -> compiled.Query:
            rows = ibis.table(ibis.Schema.from_pyarrow(reduced.schema), name=expressions.REDUCED)
            prices_t = register(duck, cat.prices)
            totals = price_lines(from_reduced(rows, cat.plan), prices_t)
            return compiled.compile_query(
                duck, line_amounts(totals, cat.plan, duck, cleanup, cat.tiers)
            )

        price_key = (
            compiled.fingerprint(cat.key, "price reduced", repr(reduced.schema)) if inline else None
        )
        return compiled.run(duck, compiled.queries.get(price_key, build))
    finally:
        for fn in cleanup:
            fn()
        cleanup.clear()
        duck.disconnect()
