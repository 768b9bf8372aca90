"""Rating: hand-computed charge lines per model on DuckDB, the same lines on Spark."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from decimal import Decimal as D
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicebook.finance.usage.bench_rating import run_rating_benchmark
from servicebook.finance.usage.rating import (
    PRICE_SCHEMA,
    QUANTITY_TYPE,
    TIER_SCHEMA,
    RatingInputError,
    rate,
    rate_python,
)

UTC = dt.UTC
JAN = dt.datetime(2024, 1, 1, tzinfo=UTC)
OCT = dt.datetime(2024, 10, 1, tzinfo=UTC)


def sep(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, 9, day, hour, tzinfo=UTC)


def usage_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """rows: (customer, offering, quantity, unit, start, end)."""
    return pa.table(
        {
            "record_id": [f"r{i}" for i in range(len(rows))],
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "offering_id": pa.array([r[1] for r in rows], pa.int64()),
            "quantity": pa.array([None if r[2] is None else D(r[2]) for r in rows], QUANTITY_TYPE),
            "unit": [r[3] for r in rows],
            "start_time": pa.array([r[4] for r in rows], pa.timestamp("us", tz="UTC")),
            "end_time": pa.array([r[5] for r in rows], pa.timestamp("us", tz="UTC")),
        }
    )


#: the unit each offering is metered in (validated at import, so rating takes it from the prices)
UNITS = {
    10: "h",
    20: "GB",
    30: "call",
    40: "seat",
    50: "sub",
    60: "sub",
    70: "GB",
    80: "h",
    90: "h",
}


def price(pid, offering, model, unit_price=None, **kw) -> dict[str, Any]:
    return {
        "price_id": pid,
        "customer_id": kw.get("customer"),
        "offering_id": offering,
        "valid_from": kw.get("valid_from", JAN),
        "valid_to": kw.get("valid_to"),
        "charge_model": model,
        "unit_price": None if unit_price is None else D(unit_price),
        "package_size": None if kw.get("package") is None else D(kw["package"]),
        "currency": kw.get("currency", "EUR"),
        "tier_set_id": kw.get("tiers"),
        "unit": kw.get("unit", UNITS.get(offering)),
    }


PRICES = pa.Table.from_pylist(
    [
        price(1, 10, "per_unit", "0.1", valid_to=sep(15)),
        price(2, 10, "per_unit", "0.125", valid_from=sep(15)),
        price(3, 20, "graduated", tiers=100),
        price(4, 20, "volume", customer=2, tiers=100),
        price(5, 30, "package", "2.5", package=1000),
        price(6, 40, "flat", "10"),
        price(7, 50, "flat", "30"),
        price(8, 10, "per_unit", "0.05", customer=3),
        price(9, 60, "flat", "10", valid_to=sep(11)),
        price(10, 60, "flat", "40", valid_from=sep(11)),
        price(11, 70, "package", "1", package="0.1"),
        price(12, 80, "per_unit", "0.125"),
        price(13, 90, "per_unit", "12.5", currency="JPY"),
    ],
    schema=PRICE_SCHEMA,
)
TIERS = pa.Table.from_pylist(
    [
        {"tier_set_id": 100, "lower_bound": D(0), "upper_bound": D(1000), "unit_price": D("0.10")},
        {
            "tier_set_id": 100,
            "lower_bound": D(1000),
            "upper_bound": D(2000),
            "unit_price": D("0.08"),
        },
        {"tier_set_id": 100, "lower_bound": D(2000), "upper_bound": None, "unit_price": D("0.05")},
    ],
    schema=TIER_SCHEMA,
)
USAGE = usage_table(
    [
        (1, 10, "600", "h", sep(1), sep(2)),  # list 0.1 until the 15th
        (1, 10, "700", "h", sep(20), sep(21)),  # list 0.125 from the 15th
        (1, 20, "1000", "GB", sep(2), sep(3)),  # graduated, 1500 in total
        (1, 20, "500", "GB", sep(4), sep(5)),
        (2, 20, "1500", "GB", sep(3), sep(4)),  # volume (override for customer 2)
        (2, 30, "2500", "call", sep(4), sep(5)),  # package of 1000
        (1, 40, "3", "seat", sep(1), OCT),  # flat, 3 seats all month
        (1, 50, "1", "sub", sep(16), OCT),  # flat, from the 16th: half a month
        (3, 10, "5", "h", sep(5), sep(6)),  # override 0.05 for customer 3
        (2, 99, "1", "x", sep(5), sep(6)),  # no price: unrated
        (4, 60, "1", "sub", dt.datetime(2024, 8, 20, tzinfo=UTC), OCT),  # flat, price change
        (4, 70, "1.1", "GB", sep(7), sep(8)),  # 1.1 / 0.1 = 11 packages (float says 12)
        (4, 80, "1", "h", sep(7), sep(8)),  # 0.125 -> 0.13 half-up
        (4, 90, "3", "h", sep(7), sep(8)),  # 37.5 JPY -> 38
        (4, 80, "1000", "h", OCT, OCT),  # outside the period: ignored
    ]
)

# (customer, offering, price_id) -> (amount, rated quantity, model, scope)
EXPECTED = {
    (1, 10, 1): (D("60.00"), D("600"), "per_unit", "list"),  # 600 x 0.1
    (1, 10, 2): (D("87.50"), D("700"), "per_unit", "list"),  # 700 x 0.125
    (1, 20, 3): (D("140.00"), D("1500"), "graduated", "list"),  # 1000x0.10 + 500x0.08
    (1, 40, 6): (D("30.00"), D("3"), "flat", "list"),  # 3 seats x 10 x 1 month
    (1, 50, 7): (D("15.00"), D("0.5"), "flat", "list"),  # 30 x 15/30 days
    (2, 20, 4): (D("120.00"), D("1500"), "volume", "customer"),  # 1500 x 0.08
    (2, 30, 5): (D("7.50"), D("3"), "package", "list"),  # ceil(2500/1000)=3 x 2.5
    (3, 10, 8): (D("0.25"), D("5"), "per_unit", "customer"),  # 5 x 0.05
    (4, 60, 9): (D("3.33"), D("0.333333"), "flat", "list"),  # 10 x 10/30
    (4, 60, 10): (D("26.67"), D("0.666667"), "flat", "list"),  # 40 x 20/30
    (4, 70, 11): (D("11.00"), D("11"), "package", "list"),  # 11 packages x 1
    (4, 80, 12): (D("0.13"), D("1"), "per_unit", "list"),  # 0.125 rounded half-up
    (4, 90, 13): (D("38"), D("3"), "per_unit", "list"),  # 37.5 JPY, no minor unit
}


def by_key(lines: pa.Table) -> dict[tuple[int, int, int | None], dict[str, Any]]:
    return {(r["customer_id"], r["offering_id"], r["price_id"]): r for r in lines.to_pylist()}


@pytest.fixture(scope="module")
def duck_lines() -> pa.Table:
    return rate("duckdb", USAGE, PRICES, TIERS, "2024-09")


def test_each_charge_model_by_hand_on_duckdb(duck_lines):
    lines = by_key(duck_lines)
    rated = {k: v for k, v in lines.items() if v["status"] == "rated"}
    assert set(rated) == set(EXPECTED)
    for key, (amount, rated_qty, model, scope) in EXPECTED.items():
        line = rated[key]
        assert (line["amount"], line["rated_quantity"], line["charge_model"]) == (
            amount,
            rated_qty,
            model,
        ), key
        assert line["price_scope"] == scope
        assert line["period"] == "2024-09"
    assert lines[(1, 20, 3)]["records"] == 2 and lines[(1, 20, 3)]["quantity"] == D(1500)
    assert lines[(4, 90, 13)]["currency"] == "JPY"
    # each line is labelled with its offering's unit, as its price rows quote it
    assert {k: v["unit"] for k, v in rated.items()} == {k: UNITS[k[1]] for k in rated}
    assert lines[(4, 60, 9)]["valid_to"] == sep(11) and lines[(4, 60, 10)]["valid_from"] == sep(11)


def test_usage_without_a_price_comes_out_unrated(duck_lines):
    unrated = [r for r in duck_lines.to_pylist() if r["status"] == "unrated"]
    assert len(unrated) == 1
    (line,) = unrated
    assert (line["customer_id"], line["offering_id"], line["quantity"]) == (2, 99, D(1))
    assert line["amount"] is None and line["price_id"] is None
    assert line["reason"] == "no price in force at start_time"
    assert line["price_scope"] is None and line["charge_model"] is None
    assert line["unit"] is None  # no price row says what offering 99 is metered in


def test_python_loop_oracle_agrees_on_metered_lines(duck_lines):
    oracle = rate_python(USAGE, PRICES, TIERS, "2024-09")
    engine = {
        k: v["amount"]
        for k, v in by_key(duck_lines).items()
        if v["status"] == "rated" and v["charge_model"] != "flat"
    }
    assert oracle == engine


def test_bad_price_tables_are_refused():
    overlapping = pa.Table.from_pylist(
        [price(1, 10, "per_unit", "1"), price(2, 10, "per_unit", "2", valid_from=sep(10))],
        schema=PRICE_SCHEMA,
    )
    with pytest.raises(RatingInputError, match=r"prices 1 and 2 .* same time"):
        rate("duckdb", USAGE, overlapping, None, "2024-09")
    gap = TIERS.filter(pa.compute.not_equal(TIERS["lower_bound"], D(1000)))
    with pytest.raises(RatingInputError, match="tier set 100"):
        rate("duckdb", USAGE, PRICES, gap, "2024-09")
    unknown = pa.Table.from_pylist([price(1, 10, "yearly", "1")], schema=PRICE_SCHEMA)
    with pytest.raises(RatingInputError, match="unknown charge_model 'yearly'"):
        rate("duckdb", USAGE, unknown, None, "2024-09")
    with pytest.raises(ValueError, match="YYYY-MM"):
        rate("duckdb", USAGE, PRICES, TIERS, "September")
    two_units = pa.Table.from_pylist(
        [price(1, 10, "per_unit", "1"), price(2, 10, "per_unit", "2", customer=3, unit="min")],
        schema=PRICE_SCHEMA,
    )
    with pytest.raises(RatingInputError, match=r"prices 1 and 2 of offering 10 .* units"):
        rate("duckdb", USAGE, two_units, None, "2024-09")
    same_id = pa.Table.from_pylist(
        [price(1, 10, "per_unit", "1"), price(1, 20, "per_unit", "2")], schema=PRICE_SCHEMA
    )
    with pytest.raises(RatingInputError, match="price_id 1 is used by two price rows"):
        rate("duckdb", USAGE, same_id, None, "2024-09")


def test_rates_parquet_from_the_usage_store_layout(tmp_path, duck_lines):
    import pyarrow.parquet as pq

    part = tmp_path / "period=2024-09"
    part.mkdir()
    pq.write_table(USAGE.slice(0, 8), part / "part-a.parquet")
    pq.write_table(USAGE.slice(8), part / "part-b.parquet")
    lines = rate("duckdb", str(part / "*.parquet"), PRICES, TIERS, "2024-09")
    assert lines.equals(duck_lines)


def test_rating_does_not_need_the_usage_unit(duck_lines):
    """The unit is the offering's (checked at import): rating never reads the column."""
    assert rate("duckdb", USAGE.drop_columns(["unit"]), PRICES, TIERS, "2024-09").equals(duck_lines)


tier_prices = st.lists(
    st.decimals(min_value=D("0.0001"), max_value=D(100), places=4), min_size=1, max_size=4
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prices=tier_prices,
    widths=st.lists(st.integers(1, 5000), min_size=3, max_size=3),
    quantities=st.lists(
        st.decimals(min_value=0, max_value=20000, places=3), min_size=1, max_size=6
    ),
)
def test_graduated_never_below_volume_when_tier_prices_decrease(prices, widths, quantities):
    ordered = sorted(prices, reverse=True)
    tiers, lower = [], D(0)
    for i, p in enumerate(ordered):
        upper = None if i == len(ordered) - 1 else lower + widths[i]
        tiers.append(
            {"tier_set_id": 1, "lower_bound": lower, "upper_bound": upper, "unit_price": p}
        )
        lower = upper if upper is not None else lower
    tier_table = pa.Table.from_pylist(tiers, schema=TIER_SCHEMA)
    price_table = pa.Table.from_pylist(
        [price(1, 1, "graduated", tiers=1), price(2, 2, "volume", tiers=1)], schema=PRICE_SCHEMA
    )
    rows = [(c, o, str(q), "u", sep(2), sep(3)) for c, q in enumerate(quantities) for o in (1, 2)]
    lines = by_key(rate("duckdb", usage_table(rows), price_table, tier_table, "2024-09"))
    oracle = rate_python(usage_table(rows), price_table, tier_table, "2024-09")
    for c, q in enumerate(quantities):
        graduated, volume = lines[(c, 1, 1)]["amount"], lines[(c, 2, 2)]["amount"]
        assert volume <= graduated <= (q * ordered[0]).quantize(D("0.01")) + D("0.01")
        assert (graduated, volume) == (oracle[(c, 1, 1)], oracle[(c, 2, 2)])


def test_benchmark_smoke(tmp_path):
    result = run_rating_benchmark(n=5_000, workdir=tmp_path, loop_sample=500)
    assert result["records"] == 5_000 and result["charge_lines"] > 0
    for key in ("seconds", "bare_duckdb_seconds", "ratio_vs_bare_duckdb", "speedup_vs_loop"):
        assert result[key] > 0
    assert result["loop_records"] == 500 and result["peak_rss_mb"] > 0
    assert result["first_run_seconds"] >= result["seconds"]


def test_benchmark_reuses_the_records_it_generated_in_its_workdir(tmp_path):
    from servicebook.finance.usage.bench_rating import _generate_once

    usage = tmp_path / "usage"
    assert _generate_once(1_000, usage) is not None
    written = {p: p.stat().st_mtime_ns for p in usage.glob("*.parquet")}
    assert _generate_once(1_000, usage) is None  # the same count: the files are kept
    assert {p: p.stat().st_mtime_ns for p in usage.glob("*.parquet")} == written
    assert _generate_once(2_000, usage) is not None  # another count: generated again
    assert pq.read_metadata(next(usage.glob("*.parquet"))).num_rows == 2_000


def _of(lines: pa.Table, customers: set[int]) -> list[dict[str, Any]]:
    return [r for r in lines.to_pylist() if r["customer_id"] in customers]


def test_rating_some_customers_gives_their_lines_of_everybody_s_rating(duck_lines, tmp_path):
    """``customers=`` (a close's chunk): exactly those customers' lines, as rating everybody
    gives them, from Arrow and from Parquet; a kept query is not reused for other customers."""
    from servicebook.finance.usage.rating import compiled

    assert rate("duckdb", USAGE, PRICES, TIERS, "2024-09", customers=[1, 4]).to_pylist() == _of(
        duck_lines, {1, 4}
    )
    pq.write_table(USAGE, tmp_path / "part.parquet")
    glob = str(tmp_path / "*.parquet")
    misses = compiled.queries.misses
    for wanted in ({2}, {1, 3, 4}, {2}, {99}, set()):
        lines = rate("duckdb", glob, PRICES, TIERS, "2024-09", customers=sorted(wanted))
        assert lines.to_pylist() == _of(duck_lines, wanted), wanted
    assert compiled.queries.misses == misses + 4  # {2} the second time is kept


# --------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    import ibis
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("servicebook-rating-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()


@pytest.mark.spark
def test_spark_rates_identically_to_duckdb(spark, duck_lines):
    """Select with ``-k spark``; runs by default (one local session for this module)."""
    spark_lines = rate(spark, USAGE, PRICES, TIERS, "2024-09")
    assert spark_lines.schema == duck_lines.schema
    assert spark_lines.to_pylist() == duck_lines.to_pylist()


@pytest.mark.spark
def test_spark_reruns_its_kept_query_on_parquet(spark, duck_lines, tmp_path):
    """Parquet usage: the second run reuses both compiled queries (Spark's reduction of the
    records and the driver's pricing); another set of customers is another reduction, priced
    by the same kept query."""
    from servicebook.finance.usage.rating import compiled

    pq.write_table(USAGE, tmp_path / "part.parquet")
    glob = str(tmp_path / "*.parquet")
    compiled.queries.clear()
    first = rate(spark, glob, PRICES, TIERS, "2024-09")
    second = rate(spark, glob, PRICES, TIERS, "2024-09")
    assert (compiled.queries.misses, compiled.queries.hits) == (2, 2)
    assert first.to_pylist() == second.to_pylist() == duck_lines.to_pylist()
    for wanted in ({2, 4}, {2, 4}, {1}):
        lines = rate(spark, glob, PRICES, TIERS, "2024-09", customers=sorted(wanted))
        assert lines.to_pylist() == _of(duck_lines, wanted)
    assert (compiled.queries.misses, compiled.queries.hits) == (4, 6)


def _edges_of_a_month() -> tuple[pa.Table, pa.Table]:
    """Three price changes (four segments) on a metered and a flat offering, and subscriptions
    at every edge of Spark's reduction: starting before the month, spanning one, two and three
    changes, ending at a change, lasting no time (inside a segment and exactly at a change),
    ending after the month, beside quantities with six decimals up to a trillion."""
    import random

    cut = [sep(8), sep(15), sep(22)]
    prices = pa.Table.from_pylist(
        [
            price(1, 10, "per_unit", "0.1", valid_to=cut[0]),
            price(2, 10, "per_unit", "0.2", valid_from=cut[0], valid_to=cut[1]),
            price(3, 10, "per_unit", "0.3", valid_from=cut[1]),
            price(4, 40, "flat", "30", valid_to=cut[1]),
            price(5, 40, "flat", "45", valid_from=cut[1], valid_to=cut[2]),
            price(6, 40, "flat", "60", valid_from=cut[2]),
            price(7, 50, "flat", "7", customer=2),
            price(8, 50, "per_unit", "1"),
            price(9, 20, "graduated", tiers=100),
        ],
        schema=PRICE_SCHEMA,
    )
    aug = dt.datetime(2024, 8, 25, tzinfo=UTC)
    nov = dt.datetime(2024, 11, 2, tzinfo=UTC)
    rows = [
        (1, 40, "2", "seat", aug, sep(3)),  # before the month, in the first segment
        (1, 40, "1.5", "seat", aug, nov),  # the whole month and beyond: all four segments
        (1, 40, "3", "seat", sep(5), sep(17)),  # across two changes
        (1, 40, "1", "seat", sep(10), cut[1]),  # ends exactly at a change
        (1, 40, "4", "seat", cut[1], cut[1]),  # no time, exactly at a change: nowhere
        (1, 40, "5", "seat", sep(18, 6), sep(18, 6)),  # no time, inside a segment
        (2, 10, "999999999999.999999", "h", sep(1), sep(2)),
        (2, 40, "999999999999.999999", "seat", aug, nov),  # 2.6 x 10^24 unit-microseconds
        (3, 20, "999999999999.999999", "GB", sep(30), OCT),  # the largest record, tiered
        (4, 50, "999999999999.999999", "sub", sep(30), OCT),  # and per unit
        (2, 50, "2", "sub", aug, sep(20)),  # a customer's own flat price
        (3, 50, "2", "sub", sep(2), sep(3)),  # the list price is per unit
        (2, 20, "0.000001", "GB", sep(9), sep(9, 1)),
        # found by a helper attacking Spark's reduction: kept as usage, never as subscriptions
        (5, 40, "1", "seat", sep(5), None),  # no end
        (5, 40, "1", "seat", sep(1), sep(1)),  # no time, at the month's start
        (5, 40, "1", "seat", sep(5), aug),  # ends before the month it starts in
        (5, 40, None, "seat", sep(2), sep(3)),  # no quantity: no usage
        (5, 40, "2", "seat", sep(20), OCT),
    ]
    rng = random.Random(20241202)
    for _ in range(400):
        start = sep(1) + dt.timedelta(seconds=rng.randrange(-5 * 86400, 31 * 86400))
        end = start + dt.timedelta(seconds=rng.choice([0, 3600, 86400, 9 * 86400]))
        quantity = f"{rng.randrange(0, 10**9)}.{rng.randrange(0, 10**6):06d}"
        rows.append((rng.randrange(1, 6), rng.choice([10, 20, 40, 50]), quantity, "u", start, end))
    return usage_table(rows), prices


@pytest.mark.spark
def test_spark_rates_the_edges_of_a_month_identically_to_duckdb(spark):
    """Spark reduces the records to sums of integers keyed by where each subscription lies in
    the month, and the driver prices them: the same lines as DuckDB's own reading, to the
    cent, whatever the edge (see :func:`_edges_of_a_month`)."""
    usage, prices = _edges_of_a_month()
    duck = rate("duckdb", usage, prices, TIERS, "2024-09")
    lines = rate(spark, usage, prices, TIERS, "2024-09")
    assert lines.to_pylist() == duck.to_pylist()
    flat = [r for r in duck.to_pylist() if r["charge_model"] == "flat"]
    assert {r["price_id"] for r in flat} == {4, 5, 6, 7}


_MONTH_US = 30 * 86_400 * 10**6


@st.composite
def _months(draw) -> tuple[pa.Table, pa.Table]:
    """A month of random price changes (at any microsecond), charge models, gaps without a
    price, an override, and records at and around every boundary: any quantity of six decimals
    (negative, none, the largest), no end, no length, ends before starts."""
    cuts = sorted(
        {
            sep(1) + dt.timedelta(microseconds=draw(st.integers(1, _MONTH_US - 1)))
            for _ in range(draw(st.sampled_from([0, 1, 3, 12])))
        }
    )
    bounds = [JAN, *cuts, None]
    models = st.sampled_from(["per_unit", "graduated", "volume", "package", "flat"])
    rows = []
    for offering in (10, 20):
        for lo, hi in itertools.pairwise(bounds):
            if draw(st.integers(0, 9)) == 0:
                continue  # no price in force: unrated
            model = draw(models) if offering == 10 else draw(st.sampled_from(["per_unit", "flat"]))
            kw = {
                "valid_from": lo,
                "valid_to": hi,
                "package": "0.3" if model == "package" else None,
            }
            tiered = model in ("graduated", "volume")
            rows.append(
                price(
                    len(rows) + 1,
                    offering,
                    model,
                    None if tiered else "2.5",
                    tiers=100 if tiered else None,
                    **kw,
                )
            )
    rows.append(
        price(len(rows) + 1, 10, "flat", "1.5", customer=2, valid_from=sep(3), valid_to=sep(20))
    )
    near = st.tuples(st.sampled_from([*cuts, sep(1), OCT]), st.sampled_from([-1, 0, 1]))
    instant = st.one_of(
        st.integers(-6 * 86_400 * 10**6, _MONTH_US + 3 * 86_400 * 10**6).map(
            lambda us: sep(1) + dt.timedelta(microseconds=us)
        ),
        near.map(lambda t: t[0] + dt.timedelta(microseconds=t[1])),
    )
    quantity = st.one_of(
        st.none(),
        st.decimals(min_value=D(-1000), max_value=D(10**6), places=6).map(str),
        st.sampled_from(["999999999999.999999", "0.999999", "1000.000001", "0"]),
    )
    records = []
    for _ in range(draw(st.integers(0, 25))):
        start = draw(instant)
        end = draw(st.one_of(instant, st.just(start), st.none()))
        offering = draw(st.sampled_from([10, 20, 30]))
        records.append((draw(st.integers(1, 3)), offering, draw(quantity), "u", start, end))
    return usage_table(records), pa.Table.from_pylist(rows, schema=PRICE_SCHEMA)


@pytest.mark.spark
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(month=_months())
def test_spark_rates_any_month_identically_to_duckdb(spark, month):
    """The guard over Spark's reduction and the driver's pricing: random months, every line
    compared with DuckDB's one-query rating."""
    usage, prices = month
    assert (
        rate(spark, usage, prices, TIERS, "2024-09").to_pylist()
        == rate("duckdb", usage, prices, TIERS, "2024-09").to_pylist()
    )


@pytest.mark.spark
def test_spark_prices_many_tiers_through_the_join(spark, monkeypatch, duck_lines):
    """More tier rows than are written inline: the driver's pricing joins them, after Spark's
    reduction (a table materialized from it on the embedded DuckDB)."""
    from servicebook.finance.usage.rating import expressions

    monkeypatch.setattr(expressions, "INLINE_TIER_ROWS", 0)
    assert rate(spark, USAGE, PRICES, TIERS, "2024-09").to_pylist() == duck_lines.to_pylist()


def test_negative_tiered_totals_rate_at_zero_inline_as_through_the_join(monkeypatch):
    """A negative total (corrections only) on a graduated or a volume price rates at zero on
    both tier paths and in the Python loop."""
    from servicebook.finance.usage.rating import expressions

    prices = pa.Table.from_pylist(
        [price(3, 20, "graduated", tiers=100), price(4, 20, "volume", customer=2, tiers=100)],
        schema=PRICE_SCHEMA,
    )
    usage = usage_table(
        [(1, 20, "-0.999999", "GB", sep(2), sep(3)), (2, 20, "-5", "GB", sep(2), sep(3))]
    )
    inline = rate("duckdb", usage, prices, TIERS, "2024-09")
    monkeypatch.setattr(expressions, "INLINE_TIER_ROWS", 0)
    joined = rate("duckdb", usage, prices, TIERS, "2024-09")
    assert inline.to_pylist() == joined.to_pylist()
    assert [a for a in inline["amount"].to_pylist()] == [D("0.00"), D("0.00")]
    assert rate_python(usage, prices, TIERS, "2024-09") == {(1, 20, 3): D(0), (2, 20, 4): D(0)}


def test_tier_join_path_rates_like_the_inline_tiers(monkeypatch, duck_lines):
    """Many tier rows are priced through a join, few inline: the same lines either way."""
    from servicebook.finance.usage.rating import expressions

    monkeypatch.setattr(expressions, "INLINE_TIER_ROWS", 0)
    assert rate("duckdb", USAGE, PRICES, TIERS, "2024-09").equals(duck_lines)


def test_bench_data_rates_like_the_loop(tmp_path):
    """The benchmark's price list (300 offerings, overrides, mid-month changes, flat) on a few
    thousand records: the per-record loop agrees on the metered lines."""
    from servicebook.finance.usage import bench_rating

    bench_rating.generate_usage(20_000, tmp_path)
    glob = str(tmp_path / "*.parquet")
    prices, tiers = bench_rating.build_prices()
    rated = rate("duckdb", glob, prices, tiers, "2024-09")
    usage = pa.concat_tables(pq.read_table(f) for f in sorted(tmp_path.glob("*.parquet")))
    oracle = rate_python(usage, prices, tiers, "2024-09")
    lines = by_key(rated)
    metered = {k: v["amount"] for k, v in lines.items() if v["charge_model"] not in ("flat", None)}
    assert metered == oracle


def test_a_month_without_price_changes_with_a_flat_price():
    """One price segment (nothing to pick between) and a subscription."""
    prices = pa.Table.from_pylist(
        [price(1, 10, "per_unit", "0.1"), price(2, 40, "flat", "30")], schema=PRICE_SCHEMA
    )
    usage = usage_table([(1, 10, "5", "h", sep(2), sep(2, 1)), (3, 40, "2", "seat", sep(16), OCT)])
    lines = by_key(rate("duckdb", usage, prices, None, "2024-09"))
    assert lines[(1, 10, 1)]["amount"] == D("0.50")
    assert lines[(3, 40, 2)]["amount"] == D("30.00")  # 2 seats x 30 x 15/30 days
    assert lines[(3, 40, 2)]["quantity"] == D(1)


def test_a_petabyte_month_of_a_flat_price():
    """A million GB kept all month at 0.02 a GB-month: 2.6 x 10^18 unit-microseconds, more
    than a decimal(38, 20) holds, are kept exactly (decimal(38, 6): quantity x microseconds)."""
    prices = pa.Table.from_pylist([price(1, 40, "flat", "0.02", unit="GB")], schema=PRICE_SCHEMA)
    usage = usage_table([(1, 40, "1000000", "GB", sep(1), OCT), (2, 40, "0.5", "GB", sep(1), OCT)])
    lines = by_key(rate("duckdb", usage, prices, None, "2024-09"))
    assert lines[(1, 40, 1)]["quantity"] == D(1_000_000)
    assert lines[(1, 40, 1)]["amount"] == D("20000.00")
    assert lines[(2, 40, 1)]["amount"] == D("0.01")


def test_several_price_changes_in_a_month_match_the_loop():
    """Three price boundaries in the month (four segments), overrides and a flat offering."""
    prices = pa.Table.from_pylist(
        [
            price(1, 10, "per_unit", "0.1", valid_to=sep(8)),
            price(2, 10, "per_unit", "0.2", valid_from=sep(8), valid_to=sep(15)),
            price(3, 10, "per_unit", "0.3", valid_from=sep(15), valid_to=sep(22)),
            price(4, 10, "per_unit", "0.4", valid_from=sep(22)),
            price(5, 10, "per_unit", "0.05", customer=2, valid_from=sep(15)),
            price(6, 20, "graduated", tiers=100),
            price(7, 40, "flat", "30"),
        ],
        schema=PRICE_SCHEMA,
    )
    rows = [(c, 10, str(d), "h", sep(d, 3), sep(d, 4)) for c in (1, 2) for d in range(1, 31)]
    rows += [(1, 20, "700", "GB", sep(d), sep(d, 1)) for d in (2, 12, 29)]
    rows += [(3, 40, "2", "seat", sep(10), OCT)]
    usage = usage_table(rows)
    lines = by_key(rate("duckdb", usage, prices, TIERS, "2024-09"))
    oracle = rate_python(usage, prices, TIERS, "2024-09")
    metered = {k: v["amount"] for k, v in lines.items() if v["charge_model"] != "flat"}
    assert metered == oracle
    assert lines[(1, 10, 1)]["records"] == 7 and lines[(1, 10, 1)]["quantity"] == D(28)
    assert lines[(2, 10, 5)]["quantity"] == D(sum(range(15, 31)))
    assert lines[(1, 20, 6)]["amount"] == D("185.00")  # 1000 x 0.10 + 1000 x 0.08 + 100 x 0.05
    assert lines[(3, 40, 7)]["amount"] == D("42.00")  # 2 seats x 30 x 21/30 days


def test_a_price_change_splits_only_the_lines_whose_price_changes():
    """A price boundary within the month gives two lines to the customers whose price changes
    then (a list price or one customer's), and one line to every other customer and offering,
    however many boundaries the month has."""
    prices = pa.Table.from_pylist(
        [
            price(1, 10, "per_unit", "0.1", valid_to=sep(15)),
            price(2, 10, "per_unit", "0.2", valid_from=sep(15)),
            price(3, 30, "per_unit", "1"),  # the same all month for its list customers
            price(4, 30, "per_unit", "0.5", customer=2, valid_from=sep(20)),  # from the 20th
            price(5, 80, "per_unit", "0.25"),  # never changes
        ],
        schema=PRICE_SCHEMA,
    )
    rows = [
        (c, o, "2", "h", sep(d, 3), sep(d, 4))
        for c in (1, 2)
        for o in (10, 30, 80)
        for d in range(1, 31)
    ]
    usage = usage_table(rows)
    lines = by_key(rate("duckdb", usage, prices, None, "2024-09"))
    assert {k: v["amount"] for k, v in lines.items()} == rate_python(
        usage, prices, TIERS, "2024-09"
    )
    assert sorted(k for k in lines if k[1] != 10) == [
        (1, 30, 3),
        (1, 80, 5),
        (2, 30, 3),
        (2, 30, 4),
        (2, 80, 5),
    ]
    assert lines[(1, 80, 5)]["records"] == 30 and lines[(1, 80, 5)]["amount"] == D("15.00")
    assert lines[(2, 30, 3)]["records"] == 19 and lines[(2, 30, 4)]["records"] == 11
    assert lines[(1, 10, 1)]["records"] == 14 and lines[(1, 10, 2)]["records"] == 16


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(
        st.one_of(
            st.none(),
            st.integers(-(10**31), 10**31),  # scale 20: up to 10^11 in money
            st.integers(-(10**18), 10**18).map(lambda k: k * 5 * 10**14),  # exact halves
        ),
        min_size=1,
        max_size=40,
    ),
    currencies=st.lists(st.sampled_from(["EUR", "JPY", "BHD", "XXX", None]), min_size=40),
)
def test_amounts_are_rounded_half_away_from_zero_to_each_currency(amounts, currencies):
    """The finishing step's rounding (64-bit integers, Arrow's decimals for the largest) agrees
    with Python's decimal rounding, half away from zero, for every minor unit in use."""
    from decimal import ROUND_HALF_UP

    from servicebook.finance.usage.rating import finish
    from servicebook.finance.usage.rating.schema import AMOUNT_TYPE, CALC_PRODUCT

    minor = {"EUR": 2, "JPY": 0, "BHD": 3}
    scale = int(CALC_PRODUCT.split(",")[1].strip(" )"))
    values = [None if a is None else D(a).scaleb(-scale) for a in amounts]
    raw = pa.chunked_array([pa.array(values, pa.decimal128(38, scale))])
    currency = pa.chunked_array([pa.array(currencies[: len(values)], pa.string())])
    got = finish._round_amounts(raw, currency, minor).to_pylist()
    expected = [
        None if v is None else v.quantize(D(1).scaleb(-minor.get(c, 2)), rounding=ROUND_HALF_UP)
        for v, c in zip(values, currencies, strict=False)
    ]
    assert got == expected
    assert finish._round_amounts(raw, currency, minor).type == AMOUNT_TYPE
