"""Usage rating: one Ibis definition that runs on DuckDB (default) and on PySpark.

Rating turns metered usage (VM hours, GB-months, seats, API calls...) into *charge lines*: one
line per customer, offering, period, currency and price row, carrying the quantity consumed, the
quantity actually billed, and the amount.  The same Ibis expressions are compiled to DuckDB SQL
for the embedded, single-machine case and to Spark SQL when one machine is not enough; the test
suite rates the same data on both engines and asserts identical lines to the cent.

Contract with the caller (the Django side)
------------------------------------------
The engine is **policy-agnostic**.  Before rating, the caller turns its customer policy into price
rows: internal customers get their own rows (cost x (1 + allowed margin)), external customers get
their contract prices as per-customer overrides, everybody else falls back to the list price
(``customer_id`` null).  Usage has already passed :func:`servicebook.finance.usage_store.validate`
(known customer and offering, unit matching the offering, non-negative quantity), so the unit
of a record is its offering's unit: rating never reads the usage ``unit`` column (a string column
is the dearest thing to scan and group by) and labels each line with the unit its price rows
quote.

Inputs (Arrow tables, Parquet paths/globs or Ibis tables; extra columns are ignored)
-----------------------------------------------------------------------------------
``usage``   record_id string, customer_id int64, offering_id int64, quantity decimal(18, 6),
            start_time / end_time timestamp (UTC).
``prices``  price_id int64, customer_id int64 (null = list price for everybody, set = override
            for that customer), offering_id int64, valid_from timestamp, valid_to timestamp
            (null = open-ended; exclusive), charge_model one of ``flat``, ``per_unit``,
            ``graduated``, ``volume``, ``package``, unit_price decimal (scale <= 10; null for tiered
            models), package_size decimal (package only), currency string (ISO 4217),
            tier_set_id int64 (graduated/volume only), unit string (the offering's unit the
            price is quoted per; every price row of an offering that states one states the same).
``tiers``   tier_set_id int64, lower_bound decimal (inclusive), upper_bound decimal (exclusive,
            null = unbounded), unit_price decimal.  A tier set must start at 0, be contiguous and
            end unbounded; this is checked before rating.

Semantics
---------
* Period: ``"YYYY-MM"`` in UTC.  Metered usage belongs to the period of its ``start_time``.
* Price in force: the price row whose ``[valid_from, valid_to)`` contains the usage
  ``start_time``; a customer override beats the list price.  Overlapping rows of the same scope
  are rejected before rating (they would double-charge).  Usage with no price in force comes out
  as an explicit ``status = 'unrated'`` line (amount null) -- never silently dropped.
* ``per_unit``: amount = quantity x unit_price.
* ``graduated``: each slice of the line's period total is priced at its own tier
  (first 1,000 at 0.10, the next 9,000 at 0.08, ...).
* ``volume``: the whole period total is priced at the tier the total falls in.
* ``package``: quantity rounded UP to whole packages of ``package_size``; unit_price per package.
  ``rated_quantity`` is the number of packages.
* ``flat``: unit_price is a price *per unit per whole period* (a subscription fee, a seat fee).
  Flat lines come in as **subscription records** in the usage table: one record per subscription
  (or seat block) whose ``[start_time, end_time)`` is the subscribed interval and whose quantity is
  the number of subscribed units (1 for a plain subscription).  The amount is
  quantity x unit_price x (seconds of the interval that fall in the period *while that flat price
  is in force*) / (seconds in the period) -- so a subscription that starts mid-month, or a price
  that changes mid-month, is prorated.  ``rated_quantity`` is the number of unit-periods
  (e.g. 0.5 for one seat during half of the month).  Proration is at microsecond resolution.
* Tiers apply to the period total of the line, i.e. per (customer, offering, price row).

Exactness and rounding
----------------------
Quantities are decimal(18, 6) per record and decimal(38, 6) per line; prices have scale 10;
intermediate products are computed as decimal(38, 20) on both engines (on Spark this requires
``spark.sql.decimalOperations.allowPrecisionLoss=false``, which :func:`rate` sets).  No value
goes through floating point: the package count uses a float estimate that is then corrected with
exact decimal comparisons.  The amount is rounded ONCE per line, half-up (half away from zero), to
the currency's minor unit (2 unless listed in :data:`MINOR_UNITS` or overridden), and returned as
decimal(38, 4).  Flat (prorated) lines are divided by the period length in the shared Python
finishing step with :mod:`decimal` because SQL engines disagree on decimal division.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

UTC = dt.UTC

#: charge models understood by the engine
CHARGE_MODELS = ("flat", "per_unit", "graduated", "volume", "package")

#: minor units per ISO 4217 currency where it is not 2
MINOR_UNITS: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "ISK": 0,
    "JPY": 0,
    "KRW": 0,
    "PYG": 0,
    "UGX": 0,
    "VND": 0,
    "XAF": 0,
    "XOF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}

QUANTITY_TYPE = pa.decimal128(18, 6)  # one usage record
LINE_QUANTITY_TYPE = pa.decimal128(38, 6)  # a period total
PRICE_TYPE = pa.decimal128(38, 10)
AMOUNT_TYPE = pa.decimal128(38, 4)
TS_TYPE = pa.timestamp("us", tz="UTC")

_CALC = "decimal(38, 10)"  # operand type of every product: results are decimal(38, 20)
_CALC_PRODUCT = "decimal(38, 20)"

USAGE_COLUMNS = {
    "customer_id": pa.int64(),
    "offering_id": pa.int64(),
    "quantity": QUANTITY_TYPE,
    "start_time": TS_TYPE,
    "end_time": TS_TYPE,
}

PRICE_SCHEMA = pa.schema(
    [
        ("price_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("offering_id", pa.int64()),
        ("valid_from", TS_TYPE),
        ("valid_to", TS_TYPE),
        ("charge_model", pa.string()),
        ("unit_price", PRICE_TYPE),
        ("package_size", LINE_QUANTITY_TYPE),
        ("currency", pa.string()),
        ("tier_set_id", pa.int64()),
        ("unit", pa.string()),
    ]
)

TIER_SCHEMA = pa.schema(
    [
        ("tier_set_id", pa.int64()),
        ("lower_bound", LINE_QUANTITY_TYPE),
        ("upper_bound", LINE_QUANTITY_TYPE),
        ("unit_price", PRICE_TYPE),
    ]
)

#: schema of the charge lines returned by :func:`rate`
CHARGE_LINE_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("offering_id", pa.int64()),
        ("period", pa.string()),
        ("currency", pa.string()),
        ("status", pa.string()),  # 'rated' | 'unrated'
        ("reason", pa.string()),  # why a line is unrated, else null
        ("charge_model", pa.string()),
        ("quantity", LINE_QUANTITY_TYPE),  # usage quantity (unit-periods for flat)
        ("rated_quantity", LINE_QUANTITY_TYPE),  # billed quantity (packages for package)
        ("unit", pa.string()),
        ("amount", AMOUNT_TYPE),
        ("records", pa.int64()),
        ("price_id", pa.int64()),
        ("price_scope", pa.string()),  # 'customer' (override) | 'list'
        ("unit_price", PRICE_TYPE),
        ("package_size", LINE_QUANTITY_TYPE),
        ("tier_set_id", pa.int64()),
        ("valid_from", TS_TYPE),
        ("valid_to", TS_TYPE),
    ]
)

TableLike = pa.Table | str | Path | ir.Table


class RatingInputError(ValueError):
    """The price or tier tables are inconsistent (overlaps, unknown models, gaps in tiers)."""


# --------------------------------------------------------------------------- periods


def period_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC ``[start, end)`` of a ``"YYYY-MM"`` period."""
    try:
        year, month = (int(p) for p in period.split("-"))
        start = dt.datetime(year, month, 1, tzinfo=UTC)
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"period must look like 'YYYY-MM', got {period!r}") from exc
    days = calendar.monthrange(year, month)[1]
    return start, start + dt.timedelta(days=days)


# --------------------------------------------------------------------------- backends


def _connect(backend: Any) -> ibis.BaseBackend:
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


def _register(con: ibis.BaseBackend, table: pa.Table) -> ir.Table:
    """Make an Arrow table available to the backend as an Ibis table (exact types kept)."""
    if con.name == "pyspark":
        # Ibis' own memtable path for Spark goes through pandas and breaks on null decimals
        import uuid

        name = f"servicebook_rating_{uuid.uuid4().hex}"
        con._session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)
    return ibis.memtable(table)


def _materialize(
    con: ibis.BaseBackend, expr: ir.Table, cleanup: list[Callable[[], None]]
) -> ir.Table:
    """Compute ``expr`` once into a temporary table of ``con`` (dropped through ``cleanup``)."""
    import uuid

    name = f"servicebook_rating_{uuid.uuid4().hex}"
    if con.name == "pyspark":
        df = con._session.sql(con.compile(expr)).persist()
        df.createOrReplaceTempView(name)
        cleanup.append(lambda: (con._session.catalog.dropTempView(name), df.unpersist()))
    else:
        con.create_table(name, expr, temp=True)
        cleanup.append(lambda: con.drop_table(name, force=True))
    return con.table(name)


def _as_arrow(obj: TableLike, con: ibis.BaseBackend) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, str | Path):
        import pyarrow.parquet as pq

        return pq.read_table(str(obj))
    return con.to_pyarrow(obj)


def _to_utc(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_timestamp(arr.type) and arr.type.tz is None:
        arr = pc.assume_timezone(arr, "UTC")
    return pc.cast(arr, TS_TYPE)


def _conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """Select and cast the columns of ``schema``; missing nullable columns become null."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            col = table[field.name]
            try:
                if pa.types.is_timestamp(field.type):
                    col = _to_utc(col)
                elif pa.types.is_floating(col.type):
                    raise RatingInputError(
                        f"{what}.{field.name} is floating point; give exact decimals"
                    )
                col = pc.cast(col, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise RatingInputError(
                    f"{what}.{field.name}: cannot use as {field.type}: {exc}"
                ) from exc
            columns.append(col)
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.table(columns, schema=schema)


def _usage_table(usage: TableLike, con: ibis.BaseBackend) -> ir.Table:
    if isinstance(usage, pa.Table):
        missing = set(USAGE_COLUMNS) - set(usage.column_names)
        if missing:
            raise RatingInputError(f"usage lacks columns {sorted(missing)}")
        schema = pa.schema(list(USAGE_COLUMNS.items()))
        return _register(con, _conform(usage, schema, "usage"))
    t = con.read_parquet(str(usage)) if isinstance(usage, str | Path) else usage
    casts = {}
    for name, typ in USAGE_COLUMNS.items():
        if name not in t.columns:
            raise RatingInputError(f"usage lacks column {name!r}")
        want = ibis.dtype(typ)
        if t[name].type() != want:
            casts[name] = t[name].cast(want)
    return t.mutate(**casts) if casts else t


# --------------------------------------------------------------------------- input checks


def _check_prices(prices: pa.Table) -> None:
    rows = prices.to_pylist()
    by_scope: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    seen: set[int] = set()
    for row in rows:
        pid = row["price_id"]
        if pid is None:
            raise RatingInputError("price row without price_id")
        if pid in seen:
            raise RatingInputError(f"price_id {pid} is used by two price rows")
        seen.add(pid)
        model = row["charge_model"]
        if model not in CHARGE_MODELS:
            raise RatingInputError(
                f"price {pid}: unknown charge_model {model!r} (expected one of {CHARGE_MODELS})"
            )
        if row["offering_id"] is None or row["valid_from"] is None or not row["currency"]:
            raise RatingInputError(
                f"price {pid}: offering_id, valid_from and currency are required"
            )
        if row["valid_to"] is not None and row["valid_to"] <= row["valid_from"]:
            raise RatingInputError(f"price {pid}: valid_to must be after valid_from")
        if model in {"graduated", "volume"}:
            if row["tier_set_id"] is None:
                raise RatingInputError(f"price {pid}: {model} needs a tier_set_id")
        elif row["unit_price"] is None:
            raise RatingInputError(f"price {pid}: {model} needs a unit_price")
        if model == "package" and (row["package_size"] is None or row["package_size"] <= 0):
            raise RatingInputError(f"price {pid}: package needs a positive package_size")
        by_scope.setdefault((row["customer_id"], row["offering_id"]), []).append(row)
    far = dt.datetime.max.replace(tzinfo=UTC)
    for (customer, offering), group in by_scope.items():
        group.sort(key=lambda r: r["valid_from"])
        for a, b in itertools.pairwise(group):
            if (a["valid_to"] or far) > b["valid_from"]:
                scope = "list" if customer is None else f"customer {customer}"
                raise RatingInputError(
                    f"prices {a['price_id']} and {b['price_id']} ({scope}, offering {offering})"
                    " are in force at the same time"
                )


def _offering_units(prices: pa.Table) -> dict[int, str]:
    """The unit each offering's prices are quoted per; prices of one offering must agree."""
    units: dict[int, str] = {}
    first: dict[int, int] = {}
    for row in prices.select(["price_id", "offering_id", "unit"]).to_pylist():
        offering, unit = row["offering_id"], row["unit"]
        if unit is None:
            continue
        if units.setdefault(offering, unit) != unit:
            raise RatingInputError(
                f"prices {first[offering]} and {row['price_id']} of offering {offering} are"
                f" quoted per different units ({units[offering]!r}, {unit!r})"
            )
        first.setdefault(offering, row["price_id"])
    return units


def _check_tiers(tiers: pa.Table, needed: set[int]) -> None:
    sets: dict[int, list[dict[str, Any]]] = {}
    for row in tiers.to_pylist():
        sets.setdefault(row["tier_set_id"], []).append(row)
    for tier_set in sorted(needed):
        rows = sorted(sets.get(tier_set, []), key=lambda r: r["lower_bound"])
        if not rows:
            raise RatingInputError(f"tier set {tier_set} is used by a price but has no tiers")
        expected = Decimal(0)
        for i, row in enumerate(rows):
            if row["lower_bound"] != expected:
                raise RatingInputError(
                    f"tier set {tier_set}: tier starting at {row['lower_bound']} leaves a gap or"
                    f" overlap (expected a tier starting at {expected})"
                )
            if row["unit_price"] is None:
                raise RatingInputError(f"tier set {tier_set}: tier {i + 1} has no unit_price")
            upper = row["upper_bound"]
            if upper is None:
                if i != len(rows) - 1:
                    raise RatingInputError(f"tier set {tier_set}: only the last tier is unbounded")
                break
            if upper <= row["lower_bound"]:
                raise RatingInputError(f"tier set {tier_set}: empty tier at {row['lower_bound']}")
            expected = upper
        else:
            raise RatingInputError(f"tier set {tier_set}: the last tier must be unbounded")


# --------------------------------------------------------------------------- expressions


def _ts(value: dt.datetime) -> ir.Scalar:
    return ibis.literal(value, type="timestamp('UTC')")


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts: dt.datetime) -> int:  # type: ignore[empty-body]
    """DuckDB: microseconds since the epoch (no ICU calendar work, unlike CAST/date_trunc)."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_unix_micros(ts: dt.datetime) -> int:  # type: ignore[empty-body]
    """Spark SQL: microseconds since the epoch."""


def _epoch_us(ts: ir.Value, backend: str) -> ir.Value:
    """Exact integer microseconds since 1970-01-01 UTC -- the only engine-specific spelling."""
    fn = _spark_unix_micros if backend == "pyspark" else _duckdb_epoch_us
    return fn(ts).cast("int64")


def _price_in_force(agg: ir.Table, prices: ir.Table) -> ir.Table:
    """Add the ``price_id`` in force at ``seg_start`` (customer override beats list price)."""

    def scoped(is_override: bool, prefix: str) -> ir.Table:
        p = prices.filter(
            prices.customer_id.notnull() if is_override else prices.customer_id.isnull()
        )
        return p.select(
            **{
                f"{prefix}{c}": p[c]
                for c in ("customer_id", "offering_id", "price_id", "valid_from", "valid_to")
            }
        )

    ov = scoped(True, "o_")
    lp = scoped(False, "l_")
    j = agg.left_join(
        ov,
        [
            agg.customer_id == ov.o_customer_id,
            agg.offering_id == ov.o_offering_id,
            ov.o_valid_from <= agg.seg_start,
            ov.o_valid_to.isnull() | (agg.seg_start < ov.o_valid_to),
        ],
    )
    j = j.left_join(
        lp,
        [
            j.offering_id == lp.l_offering_id,
            lp.l_valid_from <= j.seg_start,
            lp.l_valid_to.isnull() | (j.seg_start < lp.l_valid_to),
        ],
    )
    return j.select(*agg.columns, price_id=j.o_price_id.fill_null(j.l_price_id))


def _attach_price(lines: ir.Table, prices: ir.Table) -> ir.Table:
    """Join the terms rating needs of the price row used (null for unrated lines)."""
    p = prices.select(
        p_price_id=prices.price_id,
        charge_model=prices.charge_model,
        unit_price=prices.unit_price,
        package_size=prices.package_size,
        currency=prices.currency,
        tier_set_id=prices.tier_set_id,
    )
    j = lines.left_join(p, lines.price_id == p.p_price_id)
    return j.drop("p_price_id")


def _round_money(
    amount: ir.Value, currency: ir.Value, minor: Mapping[str, int], used: set[str]
) -> ir.Value:
    """Round half-up (away from zero) once, to the minor unit of each currency."""
    out = ibis.dtype(AMOUNT_TYPE)
    groups: dict[int, list[str]] = {}
    for cur in used:
        groups.setdefault(minor.get(cur, 2), []).append(cur)
    rounded = amount.round(2).cast(out)
    for d, currencies in sorted(groups.items()):
        if d != 2:
            # each branch is cast on its own: engines unify CASE branch types differently
            this = amount.round(d).cast(out)
            rounded = ibis.ifelse(currency.isin(sorted(currencies)), this, rounded)
    return rounded


def _mul(a: ir.Value, b: ir.Value) -> ir.Value:
    return a.cast(_CALC) * b.cast(_CALC)


# --------------------------------------------------------------------------- rating


@dataclass(frozen=True)
class _Plan:
    period: str
    start: dt.datetime
    end: dt.datetime
    seg_starts: list[dt.datetime]
    seg_ends: list[dt.datetime]
    flat_offerings: list[int]
    cut_offerings: list[int]
    currencies: set[str]


def _plan(prices: pa.Table, period: str) -> _Plan:
    start, end = period_bounds(period)
    cuts: set[dt.datetime] = set()
    cut_offerings: set[int] = set()
    for row in prices.select(["offering_id", "valid_from", "valid_to"]).to_pylist():
        for v in (row["valid_from"], row["valid_to"]):
            if v is not None and start < v < end:
                cuts.add(v)
                cut_offerings.add(row["offering_id"])
    seg_starts = [start, *sorted(cuts)]
    seg_ends = [*sorted(cuts), end]
    flat = pc.equal(prices["charge_model"], "flat")
    flat_offerings = sorted(set(prices.filter(flat)["offering_id"].to_pylist()))
    currencies = set(prices["currency"].to_pylist())
    return _Plan(
        period, start, end, seg_starts, seg_ends, flat_offerings, sorted(cut_offerings), currencies
    )


def _aggregate(usage: ir.Table, plan: _Plan, backend: str) -> ir.Table:
    """What rating needs from the usage, per customer, offering and price segment.

    Metered records (``start_time`` in the period) give ``quantity`` and ``records`` of the
    segment holding their ``start_time``; the segment is a small integer (how many price
    boundaries of the month lie at or before ``start_time``), so this big aggregation costs little
    more than a plain group-by.  Records of offerings with a flat price (subscriptions) are read
    by a second, filtered aggregation that gives ``flat_unit_us`` (quantity x microseconds of
    overlap with each segment, as conditional sums) and ``flat_records`` (each record counted
    once, in the segment where it is first in force).
    """
    start, end = _ts(plan.start), _ts(plan.end)
    u = usage.filter(usage.start_time >= start, usage.start_time < end)
    cuts = plan.seg_starts[1:]
    keys = [u.customer_id, u.offering_id]
    metrics = {"quantity": u.quantity.sum(), "records": u.count()}
    if cuts:
        seg = sum(
            (ibis.ifelse(u.start_time >= _ts(c), 1, 0) for c in cuts[1:]),
            ibis.ifelse(u.start_time >= _ts(cuts[0]), 1, 0),
        )
        agg = u.group_by([*keys, seg.cast("int8").name("seg")]).aggregate(**metrics)
        seg_start = ibis.cases(
            *((agg.seg == k, _ts(s)) for k, s in enumerate(plan.seg_starts[1:], start=1)),
            else_=_ts(plan.start),
        )
    else:
        agg = u.group_by(keys).aggregate(**metrics)
        seg_start = _ts(plan.start)
    metered = agg.select(
        "customer_id",
        "offering_id",
        seg_start=seg_start,
        quantity=agg.quantity.cast(ibis.dtype(LINE_QUANTITY_TYPE)),
        records=agg.records.cast("int64"),
        flat_unit_us=ibis.null().cast(_CALC_PRODUCT),
        flat_records=ibis.literal(0).cast("int64"),
    )
    if not plan.flat_offerings:
        return metered

    f = usage.filter(
        usage.offering_id.isin(plan.flat_offerings),
        usage.start_time < end,
        usage.end_time > start,
    )
    segments = list(zip(plan.seg_starts, plan.seg_ends, strict=True))
    flat_metrics: dict[str, ir.Value] = {}
    for k, (s, e) in enumerate(segments):
        s_lit, e_lit = _ts(s), _ts(e)
        overlaps = (f.start_time < e_lit) & (f.end_time > s_lit)
        lo = _epoch_us(ibis.greatest(f.start_time, s_lit), backend)
        hi = _epoch_us(ibis.least(f.end_time, e_lit), backend)
        first_here = f.start_time < e_lit if k == 0 else (f.start_time >= s_lit) & overlaps
        # decimal(18, 6) x an integer count of microseconds: exact, and cheap per row
        flat_metrics[f"us{k}"] = ibis.ifelse(overlaps, f.quantity * (hi - lo), None).sum()
        flat_metrics[f"n{k}"] = f.count(where=first_here & overlaps)
    fagg = f.group_by("customer_id", "offering_id").aggregate(**flat_metrics)
    parts = [metered]
    for k, (s, _) in enumerate(segments):
        part = fagg.select(
            "customer_id",
            "offering_id",
            seg_start=_ts(s),
            quantity=ibis.null().cast(ibis.dtype(LINE_QUANTITY_TYPE)),
            records=ibis.literal(0).cast("int64"),
            flat_unit_us=fagg[f"us{k}"].cast(_CALC_PRODUCT),
            flat_records=fagg[f"n{k}"].cast("int64"),
        )
        parts.append(part.filter(part.flat_unit_us.notnull()))
    return ibis.union(*parts, distinct=False)


#: up to this many tier rows, tiers are priced inline (one CASE expression) instead of a join
INLINE_TIER_ROWS = 64


def _inline_tier_amount(lines: ir.Table, tiers: pa.Table) -> ir.Value:
    """Amount of graduated and volume lines, tier sets written out as expressions.

    The tier holding the quantity q is found by comparisons; then graduated = the exact amount
    of the tiers below it (summed here in :mod:`decimal`) + (q - its lower bound) x its price,
    and volume = q x its price: one product per line.  Same results as the join path (sum over
    tiers of max(0, min(q, upper) - lower) x price) for the contiguous tier sets
    :func:`_check_tiers` admits.
    """
    sets: dict[int, list[dict[str, Any]]] = {}
    for row in tiers.to_pylist():
        sets.setdefault(row["tier_set_id"], []).append(row)

    def lit(value: Decimal, typ: str = _CALC) -> ir.Value:
        return ibis.literal(value, type=typ)

    q = lines.quantity.cast(_CALC)
    branches = []
    for set_id, rows in sorted(sets.items()):
        rows.sort(key=lambda r: r["lower_bound"])
        below = Decimal(0)  # amount of the full tiers under the current one
        graduated, volume = [], []
        for r in rows:
            over = q if r["lower_bound"] == 0 else q - lit(r["lower_bound"])
            slice_amount = _mul(over, lit(r["unit_price"]))
            grad = slice_amount if below == 0 else lit(below, _CALC_PRODUCT) + slice_amount
            graduated.append((r["upper_bound"], grad))
            volume.append((r["upper_bound"], _mul(q, lit(r["unit_price"]))))
            if r["upper_bound"] is not None:
                below += (r["upper_bound"] - r["lower_bound"]) * r["unit_price"]

        def by_tier(amounts: list[tuple[Decimal | None, ir.Value]]) -> ir.Value:
            *bounded, (_, last) = amounts
            steps = [(q < lit(upper), amount) for upper, amount in bounded]
            return ibis.cases(*steps, else_=last) if steps else last

        in_set = lines.tier_set_id == set_id
        branches.append((in_set & (lines.charge_model == "graduated"), by_tier(graduated)))
        branches.append((in_set & (lines.charge_model == "volume"), by_tier(volume)))
    if not branches:
        return ibis.null().cast(_CALC_PRODUCT)
    return ibis.cases(*branches, else_=ibis.null().cast(_CALC_PRODUCT))


def _line_totals(usage: ir.Table, prices: ir.Table, plan: _Plan, backend: str) -> ir.Table:
    """One row per customer, offering and price in force: the totals and the price's terms."""
    agg = _aggregate(usage, plan, backend)
    priced = _price_in_force(agg, prices)
    lines = priced.group_by("customer_id", "offering_id", "price_id").aggregate(
        quantity=priced.quantity.sum().cast(ibis.dtype(LINE_QUANTITY_TYPE)),
        records=priced.records.sum().cast("int64"),
        flat_unit_us=priced.flat_unit_us.sum(),
        flat_records=priced.flat_records.sum().cast("int64"),
    )
    lines = _attach_price(lines, prices)
    is_flat = lines.charge_model.notnull() & (lines.charge_model == "flat")
    return lines.filter(ibis.ifelse(is_flat, lines.flat_unit_us.notnull(), lines.records > 0))


def _line_amounts(
    lines: ir.Table,
    tiers: ir.Table,
    plan: _Plan,
    minor: Mapping[str, int],
    con: ibis.BaseBackend,
    cleanup: list[Callable[[], None]],
    tiers_pa: pa.Table,
) -> ir.Table:
    """Rated quantity and amount of each line of :func:`_line_totals`, sorted; flat lines are
    left for :func:`_finish`."""
    if tiers_pa.num_rows <= INLINE_TIER_ROWS:
        # few tiers (the usual case): price them with one CASE expression, no join
        tier_amount = _inline_tier_amount(lines, tiers_pa)
    else:
        # the lines feed two branches (tiers and the rest): compute the big aggregation once
        lines = _materialize(con, lines, cleanup)

        # tiered models: one contribution per tier, summed per line
        tiered = lines.filter(lines.charge_model.isin(["graduated", "volume"]))
        t = tiers.select(
            t_set=tiers.tier_set_id,
            t_lower=tiers.lower_bound,
            t_upper=tiers.upper_bound,
            t_price=tiers.unit_price,
        )
        tj = tiered.join(t, tiered.tier_set_id == t.t_set)
        q = tj.quantity.cast(_CALC)
        lower = tj.t_lower.cast(_CALC)
        upper = tj.t_upper.cast(_CALC)
        zero = ibis.literal(0).cast(_CALC)
        grad_slice = ibis.greatest(zero, ibis.least(q, upper.fill_null(q)) - lower)
        in_tier = (q >= lower) & (upper.isnull() | (q < upper))
        contribution = ibis.ifelse(
            tj.charge_model == "graduated",
            _mul(grad_slice, tj.t_price),
            ibis.ifelse(in_tier, _mul(q, tj.t_price), _mul(zero, zero)),
        )
        tier_amounts = (
            tj.mutate(contribution=contribution)
            .group_by(t_price_id=tj.price_id, t_customer_id=tj.customer_id)
            .aggregate(tier_amount=lambda x: x.contribution.sum())
        )
        lines = lines.left_join(
            tier_amounts,
            [
                lines.price_id == tier_amounts.t_price_id,
                lines.customer_id == tier_amounts.t_customer_id,
            ],
        )
        tier_amount = lines.tier_amount

    is_flat = lines.charge_model.notnull() & (lines.charge_model == "flat")

    # package: ceil(quantity / package_size), estimated in float then corrected exactly
    qd = lines.quantity.cast(_CALC)
    size = lines.package_size.cast(_CALC)
    n0 = (lines.quantity.cast("float64") / lines.package_size.cast("float64")).ceil().cast("int64")
    n1 = n0 + ibis.ifelse(_mul(n0, size) < qd, 1, 0) - ibis.ifelse(_mul(n0 - 1, size) >= qd, 1, 0)
    packages = ibis.ifelse(lines.charge_model == "package", n1, None).cast("int64")

    model = lines.charge_model
    raw = ibis.cases(
        (model == "per_unit", _mul(lines.quantity, lines.unit_price)),
        (model == "package", _mul(packages, lines.unit_price)),
        (model.isin(["graduated", "volume"]), tier_amount),
        # the same decimal(38, 20) as the products: a CASE whose branches differ in type makes
        # the engine rescale every value (5x slower on DuckDB)
        else_=ibis.null().cast(_CALC_PRODUCT),
    )
    line_qty = ibis.dtype(LINE_QUANTITY_TYPE)
    rated_qty = ibis.ifelse(model == "package", packages.cast(line_qty), lines.quantity)
    # only what the engine computes: the price's terms are attached by _finish (narrow rows
    # are cheaper to sort and to hand over)
    result = lines.select(
        "customer_id",
        "offering_id",
        "price_id",
        quantity=lines.quantity,
        rated_quantity=ibis.ifelse(lines.price_id.notnull(), rated_qty, None),
        amount=_round_money(raw, lines.currency, minor, plan.currencies),
        records=ibis.ifelse(is_flat, lines.flat_records, lines.records),
        flat_unit_us=lines.flat_unit_us,
    )
    # unrated lines (price_id null) come last within a customer and offering
    return result.order_by(
        [
            result.customer_id,
            result.offering_id,
            result.price_id.asc(nulls_first=False),
        ]
    )


def _finish(
    lines: pa.Table,
    prices: pa.Table,
    plan: _Plan,
    minor: Mapping[str, int],
    units: Mapping[int, str],
) -> pa.Table:
    """The shared finishing step, the same for every engine, vectorized on the (sorted) lines.

    Each line gets the terms of its price row, its status and its offering's unit (from the price
    rows).  Flat lines: divide prorated unit-microseconds by the period length and round once,
    with :mod:`decimal` (SQL engines disagree on decimal division); the other lines keep the
    quantities and amounts the engine computed."""
    price_id = lines["price_id"]
    rated = pc.is_valid(price_id)
    row = pc.index_in(price_id, value_set=prices["price_id"])

    def term(name: str) -> pa.ChunkedArray:
        return pc.take(prices[name], row)

    scope = pc.if_else(pc.is_null(term("customer_id")), "list", "customer")
    columns = {
        "customer_id": lines["customer_id"],
        "offering_id": lines["offering_id"],
        "period": pc.if_else(rated, plan.period, plan.period),
        "currency": term("currency"),
        "status": pc.if_else(rated, "rated", "unrated"),
        "reason": pc.if_else(
            rated, pa.scalar(None, pa.string()), "no price in force at start_time"
        ),
        "charge_model": term("charge_model"),
        "quantity": lines["quantity"],
        "rated_quantity": lines["rated_quantity"],
        "unit": pc.take(
            pa.array(list(units.values()), pa.string()),
            pc.index_in(lines["offering_id"], value_set=pa.array(list(units), pa.int64())),
        ),
        "amount": lines["amount"],
        "records": lines["records"],
        "price_id": price_id,
        "price_scope": pc.if_else(rated, scope, pa.scalar(None, pa.string())),
        "unit_price": term("unit_price"),
        "package_size": term("package_size"),
        "tier_set_id": term("tier_set_id"),
        "valid_from": term("valid_from"),
        "valid_to": term("valid_to"),
    }
    if plan.flat_offerings:
        _finish_flat(columns, lines["flat_unit_us"], plan, minor)
    return _conform(pa.table(columns), CHARGE_LINE_SCHEMA, "lines")


def _unscaled(values: pa.ChunkedArray | pa.Array) -> list[int]:
    """The integers behind a non-null decimal128 array (value x 10^scale), read from its buffer."""
    import numpy as np

    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    words = np.frombuffer(arr.buffers()[1], dtype="<u8", count=2 * (arr.offset + len(arr)))
    words = words[2 * arr.offset :].reshape(-1, 2)
    high = words[:, 1].view("<i8").astype(object)
    return (high * (1 << 64) + words[:, 0].astype(object)).tolist()


def _from_unscaled(values: list[int], typ: pa.DataType) -> pa.Array:
    """A decimal128 array of ``typ`` from its unscaled integers."""
    data = b"".join(v.to_bytes(16, "little", signed=True) for v in values)
    return pa.Array.from_buffers(typ, len(values), [None, pa.py_buffer(data)])


def _divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (> 0) rounded half away from zero, in integers."""
    q, r = divmod(abs(numerator), denominator)
    q += 2 * r >= denominator
    return q if numerator >= 0 else -q


def _finish_flat(
    columns: dict[str, Any], unit_us: pa.ChunkedArray, plan: _Plan, minor: Mapping[str, int]
) -> None:
    """Quantity (unit-periods) and amount of the flat lines among ``columns``, in place.

    quantity = unit-microseconds / microseconds in the period, amount = unit_price x that, each
    rounded once, half away from zero, computed exactly on the integers behind the decimals
    (unit-microseconds have scale 20, prices scale 10)."""
    model = columns["charge_model"]
    if isinstance(model, pa.ChunkedArray):
        model = model.combine_chunks()
    mask = pc.fill_null(pc.equal(model, "flat"), False)
    at = pc.indices_nonzero(mask)
    if not len(at):
        return
    period_us = int((plan.end - plan.start).total_seconds()) * 1_000_000
    us_scale = unit_us.type.scale
    price_scale = PRICE_TYPE.scale
    quantity_scale = LINE_QUANTITY_TYPE.scale
    us_values = _unscaled(pc.cast(unit_us.take(at), pa.decimal128(38, us_scale)))
    prices = _unscaled(pc.cast(columns["unit_price"].take(at), PRICE_TYPE))
    currencies = columns["currency"].take(at).to_pylist()
    # an amount with d decimals, stored with AMOUNT_TYPE's scale: x 10^(scale - d) afterwards
    exps = {c: minor.get(c, 2) for c in set(currencies)}
    per_unit = period_us * 10 ** (us_scale - quantity_scale)
    unit_periods = [_divide_half_up(us, per_unit) for us in us_values]
    amounts = []
    for us, price, cur in zip(us_values, prices, currencies, strict=True):
        d = exps[cur]
        whole = _divide_half_up(us * price * 10**d, period_us * 10 ** (us_scale + price_scale))
        amounts.append(whole * 10 ** (AMOUNT_TYPE.scale - d))
    periods = _from_unscaled(unit_periods, LINE_QUANTITY_TYPE)
    for name, values in (
        ("quantity", periods),
        ("rated_quantity", periods),
        ("amount", _from_unscaled(amounts, AMOUNT_TYPE)),
    ):
        column = pc.cast(columns[name], values.type)
        columns[name] = pc.replace_with_mask(column.combine_chunks(), mask, values)


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
    con = _connect(backend)
    minor = {**MINOR_UNITS, **(minor_units or {})}
    if any(not 0 <= d <= AMOUNT_TYPE.scale for d in minor.values()):
        raise RatingInputError(f"minor units must be 0 to {AMOUNT_TYPE.scale}: {minor_units}")
    prices_pa = _conform(_as_arrow(prices, con), PRICE_SCHEMA, "prices")
    tiers_pa = _conform(
        _as_arrow(tiers, con) if tiers is not None else TIER_SCHEMA.empty_table(),
        TIER_SCHEMA,
        "tiers",
    )
    _check_prices(prices_pa)
    units = _offering_units(prices_pa)
    _check_tiers(tiers_pa, {t for t in prices_pa["tier_set_id"].to_pylist() if t is not None})
    plan = _plan(prices_pa, period)

    usage_t = _usage_table(usage, con)
    prices_t = _register(con, prices_pa)
    tiers_t = _register(con, tiers_pa)

    cleanup: list[Callable[[], None]] = []
    try:
        totals = _line_totals(usage_t, prices_t, plan, con.name)
        out = con.to_pyarrow(_line_amounts(totals, tiers_t, plan, minor, con, cleanup, tiers_pa))
    finally:
        for fn in cleanup:
            fn()
    return _finish(out, prices_pa, plan, minor, units)


def rate_python(
    usage: pa.Table,
    prices: pa.Table,
    tiers: pa.Table | None,
    period: str,
    *,
    minor_units: Mapping[str, int] | None = None,
) -> dict[tuple[int, int, int | None], Decimal]:
    """Reference rating as a per-record Python loop (Decimal arithmetic), metered models only.

    This is how early rating engines worked -- look up the price of each record, accumulate --
    and it is kept as an independent oracle for tests and as the baseline of the benchmark.
    Returns ``{(customer_id, offering_id, price_id): amount}``; flat prices are not handled.
    """
    minor = {**MINOR_UNITS, **(minor_units or {})}
    start, end = period_bounds(period)
    price_rows = _conform(prices, PRICE_SCHEMA, "prices").to_pylist()
    by_key: dict[tuple[Any, int], list[dict[str, Any]]] = {}
    for p in price_rows:
        by_key.setdefault((p["customer_id"], p["offering_id"]), []).append(p)
    tier_rows: dict[int, list[dict[str, Any]]] = {}
    if tiers is not None:
        for t in _conform(tiers, TIER_SCHEMA, "tiers").to_pylist():
            tier_rows.setdefault(t["tier_set_id"], []).append(t)

    def in_force(cands: list[dict[str, Any]], ts: dt.datetime) -> dict[str, Any] | None:
        for p in cands:
            if p["valid_from"] <= ts and (p["valid_to"] is None or ts < p["valid_to"]):
                return p
        return None

    totals: dict[tuple[int, int, int], Decimal] = {}
    chosen: dict[int, dict[str, Any]] = {}
    cols = [usage[c].to_pylist() for c in ("customer_id", "offering_id", "quantity", "start_time")]
    for customer, offering, quantity, ts in zip(*cols, strict=True):
        if not (start <= ts < end):
            continue
        price = in_force(by_key.get((customer, offering), []), ts) or in_force(
            by_key.get((None, offering), []), ts
        )
        if price is None or price["charge_model"] == "flat":
            continue
        key = (customer, offering, price["price_id"])
        totals[key] = totals.get(key, Decimal(0)) + quantity
        chosen[price["price_id"]] = price

    amounts: dict[tuple[int, int, int | None], Decimal] = {}
    for key, q in totals.items():
        p = chosen[key[2]]
        model = p["charge_model"]
        if model == "per_unit":
            raw = q * p["unit_price"]
        elif model == "package":
            size = p["package_size"]
            raw = (q / size).to_integral_value(rounding=ROUND_CEILING) * p["unit_price"]
        else:
            raw = Decimal(0)
            for t in tier_rows[p["tier_set_id"]]:
                lo, hi = t["lower_bound"], t["upper_bound"]
                if model == "graduated":
                    raw += (
                        max(Decimal(0), min(q, hi if hi is not None else q) - lo) * t["unit_price"]
                    )
                elif lo <= q and (hi is None or q < hi):
                    raw += q * t["unit_price"]
        exp = Decimal(1).scaleb(-minor.get(p["currency"], 2))
        amounts[key] = raw.quantize(exp, rounding=ROUND_HALF_UP)
    return amounts
