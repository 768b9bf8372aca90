"""Rating's Ibis expressions, the same on DuckDB and Spark: usage aggregated per customer,
offering and price segment, the price in force, tiers, packages, and rounding once per line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from servicebook.core.periods import period_bounds
from servicebook.finance.usage.rating.schema import (
    CALC,
    CALC_PRODUCT,
    LINE_QUANTITY_TYPE,
    UNIT_US_TYPE,
)


def materialize(
    con: ibis.BaseBackend, expr: ir.Table, cleanup: list[Callable[[], None]]
) -> ir.Table:
    """Compute ``expr`` once into a temporary table of ``con`` (dropped through ``cleanup``)."""
    import uuid

    name = f"servicebook_rating_{uuid.uuid4().hex}"
    if con.name == "pyspark":
        df = con._session.sql(con.compile(expr)).persist()
        df.createOrReplaceTempView(name)

        def drop() -> None:
            con._session.catalog.dropTempView(name)
            df.unpersist()

        cleanup.append(drop)
    else:
        con.create_table(name, expr, temp=True)
        cleanup.append(lambda: con.drop_table(name, force=True))
    return con.table(name)


def register(con: ibis.BaseBackend, table: pa.Table, name: str | None = None) -> ir.Table:
    """Make an Arrow table available to the backend as an Ibis table (exact types kept).

    On Spark a temporary view, named ``name`` when given -- a name that must then stand for this
    content only (the view is reused when it exists) -- else a fresh one."""
    if con.name == "pyspark":
        # Ibis' own memtable path for Spark goes through pandas and breaks on null decimals
        import uuid

        session = con._session
        if name is None or not session.catalog.tableExists(name):
            name = name or f"servicebook_rating_{uuid.uuid4().hex}"
            session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)
    return ibis.memtable(table)


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


def _mul(a: ir.Value, b: ir.Value) -> ir.Value:
    return a.cast(CALC) * b.cast(CALC)


@dataclass(frozen=True)
class Plan:
    period: str
    start: dt.datetime
    end: dt.datetime
    seg_starts: list[dt.datetime]
    seg_ends: list[dt.datetime]
    flat_offerings: list[int]
    currencies: set[str]


def make_plan(prices: pa.Table, period: str) -> Plan:
    start, end = period_bounds(period)
    # the instants within the month at which a price starts or ends (whole columns at a time:
    # a close chunk's prices run to hundreds of thousands of rows)
    bounds = pa.chunked_array(
        [*prices["valid_from"].chunks, *prices["valid_to"].chunks], prices["valid_from"].type
    )
    inside = pc.and_(pc.greater(bounds, _scalar(start)), pc.less(bounds, _scalar(end)))
    cuts = sorted(pc.unique(bounds.filter(pc.fill_null(inside, False))).to_pylist())
    seg_starts = [start, *cuts]
    seg_ends = [*cuts, end]
    flat = pc.equal(prices["charge_model"], "flat")
    flat_offerings = sorted(pc.unique(prices.filter(flat)["offering_id"]).to_pylist())
    currencies = set(pc.unique(prices["currency"]).to_pylist())
    return Plan(
        period,
        start,
        end,
        seg_starts,
        seg_ends,
        flat_offerings,
        currencies,
    )


def _scalar(value: dt.datetime) -> pa.Scalar:
    return pa.scalar(value, pa.timestamp("us", tz="UTC"))


def _count_cuts(ts: ir.Value, plan: Plan, strict: bool) -> ir.Value:
    """How many of the month's price boundaries lie before ``ts`` (at or before unless
    ``strict``): the number of the segment holding ``ts`` (or, ``strict``, ending at it)."""
    hits = [ibis.ifelse(ts > _ts(c) if strict else ts >= _ts(c), 1, 0) for c in plan.seg_starts[1:]]
    return sum(hits[1:], hits[0]) if hits else ibis.literal(0)


def _segment(u: ir.Table, plan: Plan) -> ir.Value | None:
    """How many price boundaries of the month lie at or before ``start_time`` (a small integer);
    None when no price changes within the month."""
    if len(plan.seg_starts) == 1:
        return None
    return _count_cuts(u.start_time, plan, False).cast("int16")


def _start_of(segment: ir.Value, plan: Plan) -> ir.Value:
    """The instant the segment numbered ``segment`` starts (see :func:`_count_cuts`)."""
    return _choose(
        [(segment == k, _ts(s)) for k, s in enumerate(plan.seg_starts[1:], start=1)],
        _ts(plan.start),
    )


def _end_of(segment: ir.Value, plan: Plan) -> ir.Value:
    """The instant the segment numbered ``segment`` ends."""
    return _choose(
        [(segment == k, _ts(e)) for k, e in enumerate(plan.seg_ends[:-1])], _ts(plan.end)
    )


def _seg_start(agg: ir.Table, plan: Plan) -> ir.Value:
    """The start of the segment numbered ``agg.seg`` (see :func:`_segment`)."""
    return _start_of(agg.seg, plan) if "seg" in agg.columns else _ts(plan.start)


def _flat_metrics(f: ir.Table, plan: Plan) -> dict[str, ir.Value]:
    """Per price segment k of the month: ``us{k}`` = quantity x microseconds of overlap of the
    records of ``f``, ``n{k}`` = those records counted once, in the segment where they are first
    in force (conditional sums: one aggregation whatever the number of segments)."""
    metrics: dict[str, ir.Value] = {}
    for k, (s, e) in enumerate(_segments(plan)):
        s_lit, e_lit = _ts(s), _ts(e)
        overlaps = (f.start_time < e_lit) & (f.end_time > s_lit)
        lo = _epoch_us(ibis.greatest(f.start_time, s_lit), "duckdb")
        hi = _epoch_us(ibis.least(f.end_time, e_lit), "duckdb")
        first_here = overlaps if k == 0 else overlaps & (f.start_time >= s_lit)
        # decimal(18, 6) x an integer count of microseconds: exact, and cheap per row
        metrics[f"us{k}"] = ibis.ifelse(overlaps, f.quantity * (hi - lo), None).sum()
        metrics[f"n{k}"] = f.count(where=first_here)
    return metrics


def _segments(plan: Plan) -> list[tuple[dt.datetime, dt.datetime]]:
    return list(zip(plan.seg_starts, plan.seg_ends, strict=True))


def _choose(branches: list[tuple[ir.Value, ir.Value]], default: ir.Value) -> ir.Value:
    """CASE over ``branches``, or just ``default`` when there are none."""
    return ibis.cases(*branches, else_=default) if branches else default


def _unpivot(agg: ir.Table, plan: Plan) -> ir.Table:
    """One row per customer, offering and price segment k out of ``agg``'s per-segment columns
    (``us{k}``/``n{k}`` of :func:`_flat_metrics`), referencing ``agg`` once: each row is
    repeated once per segment and the segment's columns are picked with CASE."""
    n = len(plan.seg_starts)
    parts = agg.mutate(part=ibis.literal(list(range(n)), type="array<int16>").unnest())

    def pick(name: str, typ: str, default: ir.Value) -> ir.Value:
        if f"{name}0" not in agg.columns:
            return default
        values = [parts[f"{name}{k}"].cast(typ) for k in range(n)]
        return _choose([(parts.part == k, v) for k, v in enumerate(values[:-1])], values[-1])

    no_records = ibis.literal(0).cast("int64")
    out = parts.select(
        "customer_id",
        "offering_id",
        seg_start=_start_of(parts.part, plan),
        quantity=pick("q", LINE_QUANTITY_TYPE, ibis.null().cast(ibis.dtype(LINE_QUANTITY_TYPE))),
        records=pick("r", "int64", no_records),
        flat_unit_us=pick("us", UNIT_US_TYPE, ibis.null().cast(UNIT_US_TYPE)),
        flat_records=pick("n", "int64", no_records),
    )
    return out.filter((out.records > 0) | out.flat_unit_us.notnull())


def _aggregate(usage: ir.Table, plan: Plan, time_ordered: bool = False) -> ir.Table:
    """What rating needs from the usage, per customer, offering and price segment.

    Metered records (``start_time`` in the period) give ``quantity`` and ``records`` of the
    segment holding their ``start_time``.  Records of offerings with a flat price
    (subscriptions) give ``flat_unit_us`` and ``flat_records`` per segment
    (:func:`_flat_metrics`).

    DuckDB pays for every extra aggregate over every record, so the records are grouped by
    customer, offering and segment number (:func:`_segment`), and the flat records read by a
    second aggregation over their offerings only.  (Reading the offerings with a mid-month price
    change apart, and the others by a plain group-by, measured no faster on DuckDB and was
    removed.)  Over usage in time order (``time_ordered``, see :mod:`.layout`) the metered
    records are read one segment at a time instead (:func:`_metered_by_ranges`).  Spark reads
    the records once in :func:`reduce_records` and :func:`from_reduced` gives this table from
    its rows.
    """
    start, end = _ts(plan.start), _ts(plan.end)
    if time_ordered and len(plan.seg_starts) > 1:
        metered = _metered_by_ranges(usage, plan)
    else:
        u = usage.filter(usage.start_time >= start, usage.start_time < end)
        seg = _segment(u, plan)
        keys = [u.customer_id, u.offering_id] + ([] if seg is None else [seg.name("seg")])
        metered = _metered(
            u.group_by(keys).aggregate(quantity=u.quantity.sum(), records=u.count()), plan
        )
    if not plan.flat_offerings:
        return metered
    f = _only(usage, plan.flat_offerings)
    f = f.filter(f.start_time < end, f.end_time > start)
    fagg = f.group_by("customer_id", "offering_id").aggregate(**_flat_metrics(f, plan))
    return ibis.union(metered, _unpivot(fagg, plan), distinct=False)


def _metered_by_ranges(usage: ir.Table, plan: Plan) -> ir.Table:
    """The metered rows of :func:`_aggregate`, one aggregation per price segment over the records
    that start in it: on Parquet in time order the engine reads only the row groups of each
    segment's time range and needs no segment number per record (about a sixth less work than
    the per-record segment on DuckDB at 20 M records)."""
    parts = []
    for s, e in _segments(plan):
        r = usage.filter(usage.start_time >= _ts(s), usage.start_time < _ts(e))
        agg = r.group_by("customer_id", "offering_id").aggregate(
            quantity=r.quantity.sum(), records=r.count()
        )
        parts.append(_metered(agg, plan, seg_start=_ts(s)))
    return ibis.union(*parts, distinct=False)


def _only(usage: ir.Table, offerings: list[int]) -> ir.Table:
    """The records of ``offerings``: a join to the short list of them (on DuckDB cheaper than
    ``IN``, which it runs as a mark join and a filter per record)."""
    wanted = pa.table({"offering_id": pa.array(offerings, pa.int64())})
    return usage.join(ibis.memtable(wanted), "offering_id")


#: the name the driver gives the rows of :func:`reduce_records` (see :func:`from_reduced`)
REDUCED = "servicebook_rating_reduced"
#: a quantity's integer micro-units are summed as two limbs of nine digits each
_LIMB = 1_000_000_000
_MICRO = 1_000_000


@ibis.udf.scalar.builtin(name="div")
def _spark_div(a: int, b: int) -> int:  # type: ignore[empty-body]
    """Spark SQL: integer division truncated towards zero (Ibis spells ``//`` as a floor over a
    floating-point quotient, inexact past 2**53)."""


def reduce_records(usage: ir.Table, plan: Plan) -> ir.Table:
    """Spark's share of a rating: the records of the month reduced to one row per customer,
    offering and place in the month, with integer sums only.

    Spark's hash aggregation keeps its fast map only while every running sum is a 64-bit
    integer; one decimal sum wider than 18 digits (any sum of decimal(18, 6) quantities) sends
    every record to the slow one.  So a quantity is summed as its integer micro-units in two
    limbs of nine digits (``qh``, ``ql``: exact for any 9 billion records a row), and the
    subscriptions' unit-microseconds, products too wide for 64 bits, are not summed here:
    a record of a flat-priced offering is keyed by what they need instead -- ``seg_hi``, the
    segment its (clamped) end falls in, ``d_lo``, its microseconds in its first segment, and
    ``d_hi``, in its last when that is another -- which few distinct values take (records of a
    standard length: an hour, a day), so its rows stay few (at worst one a record, for records
    of all different lengths); :func:`from_reduced` multiplies per row.  ``seg``
    is the segment of ``start_time``, -1 before the period (those records count only as
    subscriptions).  One scan, one shuffle, the fast map: as fast as a bare group-by."""
    start, end = _ts(plan.start), _ts(plan.end)
    in_period = (usage.start_time >= start) & (usage.start_time < end)
    keep = in_period
    if plan.flat_offerings:
        keep = in_period | (
            _is_flat(usage, plan) & (usage.start_time < end) & (usage.end_time > start)
        )
    u = usage.filter(keep)
    seg = ibis.ifelse(u.start_time < start, -1, _count_cuts(u.start_time, plan, False))
    keys: dict[str, ir.Value] = {"seg": seg.cast("int16")}
    if plan.flat_offerings:
        # a subscription is what overlaps the month (DuckDB's reading: ``_aggregate``): not a
        # record that starts in it and ends at its start or before, nor one without an end
        flat = _is_flat(u, plan) & (u.end_time > start)
        lo, hi = ibis.greatest(u.start_time, start), ibis.least(u.end_time, end)
        lo_seg, hi_seg = _count_cuts(lo, plan, False), _count_cuts(hi, plan, True)
        d_lo = _epoch_us(ibis.least(hi, _end_of(lo_seg, plan)), "pyspark") - _epoch_us(
            lo, "pyspark"
        )
        d_hi = _epoch_us(hi, "pyspark") - _epoch_us(_start_of(hi_seg, plan), "pyspark")
        keys["seg_hi"] = ibis.ifelse(flat, hi_seg, None).cast("int16")
        keys["d_lo"] = ibis.ifelse(flat, d_lo, None).cast("int64")
        keys["d_hi"] = ibis.ifelse(flat & (hi_seg > lo_seg), d_hi, None).cast("int64")
    micro = (u.quantity * _MICRO).cast("int64")
    k = u.mutate(**keys, qh=_spark_div(micro, _LIMB).cast("int64"), ql=micro % _LIMB)
    return k.group_by("customer_id", "offering_id", *keys).aggregate(
        qh=k.qh.sum(), ql=k.ql.sum(), records=k.count()
    )


def from_reduced(r: ir.Table, plan: Plan) -> ir.Table:
    """The table of :func:`_aggregate` from the rows of :func:`reduce_records` (on the driver,
    a few rows per customer and offering): one row per segment each row touches -- its own
    for the metered records (``seg`` >= 0), and for a subscription every segment from its
    first to its last, with the quantity times its microseconds there."""
    n = len(plan.seg_starts)
    # qh x 1,000 + ql x 0.000001, exactly (a decimal divided by an integer is a double)
    line_qty = ibis.dtype(LINE_QUANTITY_TYPE)
    whole = r.qh.cast(line_qty) * (_LIMB // _MICRO)
    micro = r.ql.cast(line_qty) * ibis.literal(Decimal(1) / _MICRO, line_qty)
    quantity = (whole + micro.cast(line_qty)).cast(line_qty)
    parts = r.mutate(part=ibis.literal(list(range(n)), type="array<int16>").unnest(), q=quantity)
    metered = parts.part == parts.seg
    if "seg_hi" in r.columns:
        first = ibis.greatest(parts.seg, 0)
        flat = parts.d_lo.notnull() & (parts.part >= first) & (parts.part <= parts.seg_hi)
        length = [_epoch_us_literal(e) - _epoch_us_literal(s) for s, e in _segments(plan)]
        whole_segment = _choose(
            [(parts.part == k, ibis.literal(v, "int64")) for k, v in enumerate(length[:-1])],
            ibis.literal(length[-1], "int64"),
        )
        us = _choose(
            [(parts.part == first, parts.d_lo), (parts.part == parts.seg_hi, parts.d_hi)],
            whole_segment,
        )
        flat_unit_us = ibis.ifelse(flat, parts.q * us, None)
        flat_records = ibis.ifelse(flat & (parts.part == first), parts.records, 0)
    else:
        flat = ibis.literal(False)
        flat_unit_us = ibis.null().cast(UNIT_US_TYPE)
        flat_records = ibis.literal(0)
    return parts.filter(metered | flat).select(
        "customer_id",
        "offering_id",
        seg_start=_start_of(parts.part, plan),
        quantity=ibis.ifelse(metered, parts.q, None).cast(ibis.dtype(LINE_QUANTITY_TYPE)),
        records=ibis.ifelse(metered, parts.records, 0).cast("int64"),
        flat_unit_us=flat_unit_us.cast(UNIT_US_TYPE),
        flat_records=flat_records.cast("int64"),
    )


def _epoch_us_literal(value: dt.datetime) -> int:
    """Exact microseconds since the epoch of an instant of the plan."""
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def _is_flat(t: ir.Table, plan: Plan) -> ir.Value:
    """Whether a record's offering has a flat price."""
    return t.offering_id.isin(plan.flat_offerings)


def _metered(agg: ir.Table, plan: Plan, seg_start: ir.Value | None = None) -> ir.Table:
    """The metered rows of :func:`_aggregate` in its common shape (``seg_start`` when all of
    ``agg`` is of one segment)."""
    return agg.select(
        "customer_id",
        "offering_id",
        seg_start=_seg_start(agg, plan) if seg_start is None else seg_start,
        quantity=agg.quantity.cast(ibis.dtype(LINE_QUANTITY_TYPE)),
        records=agg.records.cast("int64"),
        flat_unit_us=ibis.null().cast(UNIT_US_TYPE),
        flat_records=ibis.literal(0).cast("int64"),
    )


#: up to this many tier rows, tiers are priced inline (one CASE expression) instead of a join
INLINE_TIER_ROWS = 64


def _inline_tier_amount(lines: ir.Table, tiers: pa.Table) -> ir.Value:
    """Amount of graduated and volume lines, tier sets written out as expressions.

    The tier holding the quantity q is found by comparisons; then graduated = the exact amount
    of the tiers below it (summed here in :mod:`decimal`) + (q - its lower bound) x its price,
    and volume = q x its price: one product per line.  Same results as the join path (sum over
    tiers of max(0, min(q, upper) - lower) x price) for the contiguous tier sets
    :func:`check_tiers` admits.
    """
    sets: dict[int, list[dict[str, Any]]] = {}
    for row in tiers.to_pylist():
        sets.setdefault(row["tier_set_id"], []).append(row)

    def lit(value: Decimal, typ: str = CALC) -> ir.Value:
        return ibis.literal(value, type=typ)

    # a negative total (only from corrections: the import refuses negative readings) rates at
    # zero, as on the join path
    q = ibis.greatest(lines.quantity, 0).cast(CALC)
    branches = []
    for set_id, rows in sorted(sets.items()):
        rows.sort(key=lambda r: r["lower_bound"])
        below = Decimal(0)  # amount of the full tiers under the current one
        graduated, volume = [], []
        for r in rows:
            over = q if r["lower_bound"] == 0 else q - lit(r["lower_bound"])
            slice_amount = _mul(over, lit(r["unit_price"]))
            grad = slice_amount if below == 0 else lit(below, CALC_PRODUCT) + slice_amount
            graduated.append((r["upper_bound"], grad))
            volume.append((r["upper_bound"], _mul(q, lit(r["unit_price"]))))
            if r["upper_bound"] is not None:
                below += (r["upper_bound"] - r["lower_bound"]) * r["unit_price"]

        def by_tier(amounts: list[tuple[Decimal | None, ir.Value]]) -> ir.Value:
            *bounded, (_, last) = amounts
            steps = [(q < lit(upper), amount) for upper, amount in bounded if upper is not None]
            return ibis.cases(*steps, else_=last) if steps else last

        in_set = lines.tier_set_id == set_id
        branches.append((in_set & (lines.charge_model == "graduated"), by_tier(graduated)))
        branches.append((in_set & (lines.charge_model == "volume"), by_tier(volume)))
    if not branches:
        return ibis.null().cast(CALC_PRODUCT)
    return ibis.cases(*branches, else_=ibis.null().cast(CALC_PRODUCT))


def line_totals(
    usage: ir.Table, prices: ir.Table, plan: Plan, time_ordered: bool = False
) -> ir.Table:
    """One row per customer, offering and price in force: the totals and the price's terms
    (``time_ordered``: see :func:`_aggregate`)."""
    return price_lines(_aggregate(usage, plan, time_ordered), prices)


def price_lines(agg: ir.Table, prices: ir.Table) -> ir.Table:
    """:func:`line_totals` from the usage aggregated per customer, offering and price segment
    (:func:`_aggregate`, or :func:`from_reduced` after Spark)."""
    priced = _price_in_force(agg, prices)
    lines = priced.group_by("customer_id", "offering_id", "price_id").aggregate(
        quantity=priced.quantity.sum().cast(ibis.dtype(LINE_QUANTITY_TYPE)),
        records=priced.records.sum().cast("int64"),
        flat_unit_us=priced.flat_unit_us.sum().cast(UNIT_US_TYPE),
        flat_records=priced.flat_records.sum().cast("int64"),
    )
    lines = _attach_price(lines, prices)
    is_flat = lines.charge_model.notnull() & (lines.charge_model == "flat")
    return lines.filter(ibis.ifelse(is_flat, lines.flat_unit_us.notnull(), lines.records > 0))


def _joined_tier_amounts(lines: ir.Table, tiers: ir.Table) -> ir.Table:
    """``lines`` with ``tier_amount``: one contribution per tier, summed per line (the join path,
    for many tier rows)."""
    tiered = lines.filter(lines.charge_model.isin(["graduated", "volume"]))
    t = tiers.select(
        t_set=tiers.tier_set_id,
        t_lower=tiers.lower_bound,
        t_upper=tiers.upper_bound,
        t_price=tiers.unit_price,
    )
    tj = tiered.join(t, tiered.tier_set_id == t.t_set)
    q = tj.quantity.cast(CALC)
    lower = tj.t_lower.cast(CALC)
    upper = tj.t_upper.cast(CALC)
    zero = ibis.literal(0).cast(CALC)
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
    return lines.left_join(
        tier_amounts,
        [
            lines.price_id == tier_amounts.t_price_id,
            lines.customer_id == tier_amounts.t_customer_id,
        ],
    )


def line_amounts(
    lines: ir.Table,
    plan: Plan,
    con: ibis.BaseBackend,
    cleanup: list[Callable[[], None]],
    tiers_pa: pa.Table,
) -> ir.Table:
    """Rated quantity and unrounded amount of each line of :func:`line_totals`; flat lines are
    left for :func:`finish`, which also rounds and sorts."""
    if tiers_pa.num_rows <= INLINE_TIER_ROWS:
        # few tiers (the usual case): price them with one CASE expression, no join
        tier_amount = _inline_tier_amount(lines, tiers_pa)
    else:
        # the lines feed two branches (tiers and the rest): compute the big aggregation once
        # (the tier rows are handed to the engine only on this path)
        lines = _joined_tier_amounts(materialize(con, lines, cleanup), register(con, tiers_pa))
        tier_amount = lines.tier_amount

    is_flat = lines.charge_model.notnull() & (lines.charge_model == "flat")

    # package: ceil(quantity / package_size), estimated in float then corrected exactly
    qd = lines.quantity.cast(CALC)
    size = lines.package_size.cast(CALC)
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
        else_=ibis.null().cast(CALC_PRODUCT),
    )
    line_qty = ibis.dtype(LINE_QUANTITY_TYPE)
    rated_qty = ibis.ifelse(model == "package", packages.cast(line_qty), lines.quantity)
    # only what the engine computes: the price's terms are attached by finish (narrow rows
    # are cheaper to hand over); the amount leaves unrounded, in decimal(38, 20), and finish
    # rounds it (rounding a 38-digit decimal is a 128-bit division per line, slow on DuckDB);
    # DuckDB sorts the lines in parallel, faster than Arrow's sort and take in finish
    out = lines.select(
        "customer_id",
        "offering_id",
        "price_id",
        quantity=lines.quantity,
        rated_quantity=ibis.ifelse(lines.price_id.notnull(), rated_qty, None),
        amount=raw,
        records=ibis.ifelse(is_flat, lines.flat_records, lines.records),
        flat_unit_us=lines.flat_unit_us,
    )
    return out.order_by([out.customer_id, out.offering_id, out.price_id.asc(nulls_first=False)])
