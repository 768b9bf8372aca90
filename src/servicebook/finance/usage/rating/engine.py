"""Rating on an engine: the backend (DuckDB embedded, or PySpark), the tables handed to it, and
:func:`rate`, which checks the inputs, runs the expressions and finishes the lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from servicebook.core.money import MINOR_UNITS
from servicebook.finance.usage.rating.checks import check_prices, check_tiers, offering_units
from servicebook.finance.usage.rating.expressions import (
    line_amounts,
    line_totals,
    make_plan,
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


def usage_table(usage: TableLike, con: ibis.BaseBackend) -> ir.Table:
    if isinstance(usage, pa.Table):
        missing = set(USAGE_COLUMNS) - set(usage.column_names)
        if missing:
            raise RatingInputError(f"usage lacks columns {sorted(missing)}")
        schema = pa.schema(list(USAGE_COLUMNS.items()))
        return register(con, conform(usage, schema, "usage"))
    t = con.read_parquet(str(usage)) if isinstance(usage, str | Path) else usage
    casts = {}
    for name, typ in USAGE_COLUMNS.items():
        if name not in t.columns:
            raise RatingInputError(f"usage lacks column {name!r}")
        want = ibis.dtype(typ)
        if t[name].type() != want:
            casts[name] = t[name].cast(want)
    return t.mutate(**casts) if casts else t


def fetch(con: ibis.BaseBackend, expr: ir.Table) -> pa.Table:
    """The rows of ``expr`` as Arrow.  On Spark straight from the engine's Arrow batches: Ibis'
    own path for Spark goes through pandas, row objects and Python decimals, which cost more
    than the query on a few hundred thousand lines."""
    if con.name == "pyspark":
        table = con._session.sql(con.compile(expr)).toArrow()
        return table.cast(expr.schema().to_pyarrow())
    return con.to_pyarrow(expr)


def rate(
    backend: Any,
    usage: TableLike,
    prices: TableLike,
    tiers: TableLike | None,
    period: str,
    *,
    minor_units: Mapping[str, int] | None = None,
) -> pa.Table:
    """Rate ``usage`` for ``period`` and return charge lines (:data:`CHARGE_LINE_SCHEMA`).

    ``backend`` is ``"duckdb"`` (embedded, default choice), ``"pyspark"`` (a local session is
    created or reused) or an Ibis backend connection (``ibis.duckdb.connect(...)``,
    ``ibis.pyspark.connect(spark)``).  ``usage`` may be an Arrow table, a Parquet path or glob
    (e.g. ``UsageStore.parquet_glob(period)``) or an Ibis table of that backend; ``prices`` and
    ``tiers`` are small and are checked in Python first (see :class:`RatingInputError`).
    Lines are sorted by customer, offering and price_id; unrated lines last within a pair.
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
    check_prices(prices_pa)
    units = offering_units(prices_pa)
    check_tiers(tiers_pa, {t for t in prices_pa["tier_set_id"].to_pylist() if t is not None})
    plan = make_plan(prices_pa, period)

    usage_t = usage_table(usage, con)
    prices_t = register(con, prices_pa)

    cleanup: list[Callable[[], None]] = []
    try:
        totals = line_totals(usage_t, prices_t, plan, con.name)
        out = fetch(con, line_amounts(totals, plan, con, cleanup, tiers_pa))
    finally:
        for fn in cleanup:
            fn()
    return finish(out, prices_pa, plan, minor, units)
