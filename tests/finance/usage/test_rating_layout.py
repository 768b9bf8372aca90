"""Rating over Parquet in time order: each price segment read by its row groups, the same lines as
the per-record segment; and the footers that decide which way (rating.layout)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal as D

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from servicebook.finance.usage.rating import PRICE_SCHEMA, compiled, layout, rate, rate_python
from servicebook.finance.usage.store import UsageStore
from tests.finance.usage.test_rating import OCT, TIERS, price, sep, usage_table

CUT = sep(15)
PRICES = pa.Table.from_pylist(
    [
        price(1, 10, "per_unit", "0.1", valid_to=CUT),
        price(2, 10, "per_unit", "0.125", valid_from=CUT),
        price(3, 20, "graduated", tiers=100),
        price(4, 10, "per_unit", "0.05", customer=3, valid_from=sep(20)),
        price(5, 40, "flat", "10", valid_to=CUT),
        price(6, 40, "flat", "20", valid_from=CUT),
        price(7, 80, "per_unit", "0.25"),
    ],
    schema=PRICE_SCHEMA,
)


@pytest.fixture(autouse=True)
def _small_months_count(monkeypatch):
    """These months are small: read by segment whatever their size (see layout.MIN_RECORDS)."""
    monkeypatch.setattr(layout, "MIN_RECORDS", 0)


def month_of_usage() -> pa.Table:
    """Records over the whole month in time order: hourly meters of three customers, records at
    the very instants of the price changes, subscriptions across them and one from August, and
    records outside the month (before and after)."""
    rows = []
    t = dt.datetime(2024, 9, 1, tzinfo=dt.UTC)
    while t < OCT:
        for c in (1, 2, 3):
            rows.append((c, 10, "1.5", "h", t, t + dt.timedelta(hours=1)))
            rows.append((c, 20 if t.hour % 2 else 80, "2", "GB", t, t + dt.timedelta(hours=1)))
        t += dt.timedelta(hours=1)
    rows += [
        (1, 10, "7", "h", CUT, CUT + dt.timedelta(hours=1)),  # on the change: new price
        (2, 10, "9", "h", CUT - dt.timedelta(microseconds=1), CUT),  # just before it
        (3, 10, "4", "h", sep(20), sep(20, 1)),  # on customer 3's override
        (1, 40, "3", "seat", sep(10), OCT),  # a subscription across the change
        (2, 40, "1", "seat", dt.datetime(2024, 8, 20, tzinfo=dt.UTC), sep(18)),  # from August
        (3, 80, "100", "h", dt.datetime(2024, 8, 31, 23, tzinfo=dt.UTC), sep(1)),  # August
        (3, 80, "100", "h", OCT, OCT + dt.timedelta(hours=1)),  # October
    ]
    rows.sort(key=lambda r: r[4])
    return usage_table(rows)


def write(usage: pa.Table, folder, row_group_size: int, files: int = 1) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-usage.num_rows // files)
    for k in range(files):
        part = usage.slice(k * step, step)
        pq.write_table(part, folder / f"part-{k}.parquet", row_group_size=row_group_size)
    return str(folder / "*.parquet")


def rated_both_ways(glob: str, monkeypatch) -> tuple[pa.Table, pa.Table, bool]:
    decided = layout.time_ordered(glob, [CUT, sep(20)])
    by_ranges = rate("duckdb", glob, PRICES, TIERS, "2024-09")
    monkeypatch.setattr(layout, "time_ordered", lambda path, cuts: False)
    per_record = rate("duckdb", glob, PRICES, TIERS, "2024-09")
    return by_ranges, per_record, decided


def test_time_ordered_parquet_is_read_by_segment_with_the_same_lines(tmp_path, monkeypatch):
    usage = month_of_usage()
    glob = write(usage, tmp_path / "ordered", row_group_size=200, files=3)
    by_ranges, per_record, decided = rated_both_ways(glob, monkeypatch)
    assert decided
    assert by_ranges.equals(per_record)
    assert by_ranges.equals(rate("duckdb", usage, PRICES, TIERS, "2024-09"))
    lines = {(r["customer_id"], r["offering_id"], r["price_id"]): r for r in by_ranges.to_pylist()}
    assert lines[(1, 10, 2)]["quantity"] == D("1.5") * 16 * 24 + 7  # from the 15th, and the 7
    assert lines[(2, 10, 1)]["quantity"] == D("1.5") * 14 * 24 + 9  # until the 15th, and the 9
    assert lines[(3, 10, 4)]["records"] == 11 * 24 + 1
    assert lines[(1, 40, 5)]["amount"] == D("5.00")  # 3 seats x 10 x 5/30
    assert lines[(1, 40, 6)]["amount"] == D("32.00")  # 3 seats x 20 x 16/30
    assert lines[(2, 40, 5)]["amount"] == D("4.67")  # 1 seat x 10 x 14/30, from September 1
    assert lines[(2, 40, 6)]["amount"] == D("2.00")  # 1 seat x 20 x 3/30
    oracle = rate_python(usage, PRICES, TIERS, "2024-09")
    assert {k: v["amount"] for k, v in lines.items() if v["charge_model"] != "flat"} == oracle


def test_usage_in_no_order_is_read_per_record_with_the_same_lines(tmp_path, monkeypatch):
    usage = month_of_usage()
    order = list(range(usage.num_rows))
    random.Random(7).shuffle(order)
    glob = write(usage.take(order), tmp_path / "shuffled", row_group_size=200)
    by_ranges, per_record, decided = rated_both_ways(glob, monkeypatch)
    assert not decided
    assert by_ranges.equals(per_record)


@pytest.mark.parametrize("far", ["infinity", "-infinity", "year 36,000"])
def test_a_start_time_beyond_the_years_of_python_is_no_crash(tmp_path, monkeypatch, far):
    """DuckDB's 'infinity' (or a far sentinel) in a footer is no datetime: that row group counts
    as spanning a change, and the record, outside the month, is left out as before."""
    import duckdb

    usage = month_of_usage()
    folder = tmp_path / "u"
    write(usage, folder, row_group_size=200)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("u", usage.slice(0, 1))
    value = "TIMESTAMPTZ '36000-01-01 00:00:00+00'" if far[0] == "y" else f"'{far}'::TIMESTAMPTZ"
    con.execute(
        f"COPY (SELECT * REPLACE ({value} AS start_time, {value} AS end_time) FROM u) "
        f"TO '{folder / 'part-far.parquet'}' (FORMAT parquet)"
    )
    by_ranges, per_record, decided = rated_both_ways(str(folder / "*.parquet"), monkeypatch)
    assert decided
    assert by_ranges.equals(per_record)
    assert by_ranges.equals(rate("duckdb", usage, PRICES, TIERS, "2024-09"))


def test_more_than_127_price_changes_in_a_month(monkeypatch):
    """The segment number is a 16-bit integer (an 8-bit one overflowed at 128 changes)."""
    hours = [sep(1) + dt.timedelta(hours=h) for h in range(1, 151)]
    rows = [price(1, 80, "per_unit", "0.25", valid_to=hours[0])]
    for k, (start, end) in enumerate(zip(hours, [*hours[1:], None], strict=True), start=2):
        rows.append(price(k, 80, "per_unit", f"0.{k:03d}", valid_from=start, valid_to=end))
    prices = pa.Table.from_pylist(rows, schema=PRICE_SCHEMA)
    usage = usage_table([(1, 80, "2", "GB", h, h + dt.timedelta(minutes=5)) for h in hours])
    lines = rate("duckdb", usage, prices, TIERS, "2024-09")
    assert lines.num_rows == 150
    oracle = rate_python(usage, prices, TIERS, "2024-09")
    assert {
        (r["customer_id"], r["offering_id"], r["price_id"]): r["amount"] for r in lines.to_pylist()
    } == oracle


def test_a_kept_query_is_not_reused_once_the_files_lose_their_order(tmp_path):
    """The compiled query is kept per glob, schema and order: the same glob holding files in
    no order after files in time order rates right."""
    usage = month_of_usage()
    folder = tmp_path / "usage"
    glob = write(usage, folder, row_group_size=200)
    first = rate("duckdb", glob, PRICES, TIERS, "2024-09")
    order = list(range(usage.num_rows))
    random.Random(3).shuffle(order)
    for f in folder.glob("*.parquet"):
        f.unlink()
    write(usage.take(order), folder, row_group_size=100_000)
    assert not layout.time_ordered(glob, [CUT, sep(20)])
    misses = compiled.queries.misses
    assert rate("duckdb", glob, PRICES, TIERS, "2024-09").equals(first)
    assert compiled.queries.misses == misses + 1


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("ordered", True),
        ("one row group", False),  # spans the change
        ("no cuts", False),
        ("no file", False),
        ("not parquet", False),
        ("no start_time", False),
        ("no statistics", False),
        ("too few records", False),
        ("too many segments", False),
        ("object storage", False),
        ("beyond year 9999", True),  # that row group counts as spanning a change
    ],
)
def test_footers_decide(tmp_path, monkeypatch, case, expected):
    usage = month_of_usage()
    cuts = [CUT]
    rows_a_group = 1_000_000 if case == "one row group" else 300
    glob = write(usage, tmp_path / "u", row_group_size=rows_a_group)
    if case == "no cuts":
        cuts = []
    elif case == "no file":
        glob = str(tmp_path / "nothing" / "*.parquet")
    elif case == "not parquet":
        (tmp_path / "u" / "part-0.parquet").write_bytes(b"not parquet at all")
    elif case == "no start_time":
        pq.write_table(usage.drop_columns(["start_time"]), tmp_path / "u" / "part-0.parquet")
    elif case == "no statistics":
        pq.write_table(usage, tmp_path / "u" / "part-0.parquet", write_statistics=False)
    elif case == "too few records":
        monkeypatch.setattr(layout, "MIN_RECORDS", usage.num_rows + 1)
    elif case == "too many segments":
        cuts = [sep(1, h) for h in range(1, layout.MAX_SEGMENTS + 1)]
    elif case == "object storage":
        glob = "s3://bucket/usage/period=2024-09/*.parquet"
    elif case == "beyond year 9999":  # DuckDB's 'infinity', or a far sentinel: no datetime
        far = pa.array([2**60], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        odd = usage.slice(0, 1).set_column(5, "start_time", far)
        pq.write_table(odd, tmp_path / "u" / "part-far.parquet")
    assert layout.time_ordered(glob, cuts) is expected


def test_the_store_keeps_its_parts_in_time_order_in_row_groups(tmp_path, monkeypatch):
    """An import in any order lands sorted by start_time, in row groups of ROW_GROUP_ROWS, and
    rating reads it by segment."""
    import pyarrow.csv as pacsv

    from servicebook.finance.usage import store as store_module
    from servicebook.finance.usage.records import Offering

    monkeypatch.setattr(store_module, "ROW_GROUP_ROWS", 500)
    usage = month_of_usage()
    in_month = pa.compute.and_(
        pa.compute.greater_equal(usage["start_time"], sep(1)),
        pa.compute.less(usage["start_time"], OCT),
    )
    usage = usage.filter(in_month)
    order = list(range(usage.num_rows))
    random.Random(5).shuffle(order)
    shuffled = usage.take(order)
    source = tmp_path / "in.csv"
    iso = [t.isoformat() for t in shuffled["start_time"].to_pylist()]
    pacsv.write_csv(
        pa.table(
            {
                "record_id": shuffled["record_id"],
                "customer": [f"c{c}" for c in shuffled["customer_id"].to_pylist()],
                "offering": [f"o{o}" for o in shuffled["offering_id"].to_pylist()],
                "quantity": [str(q) for q in shuffled["quantity"].to_pylist()],
                "unit": shuffled["unit"],
                "start_time": iso,
                "end_time": [t.isoformat() for t in shuffled["end_time"].to_pylist()],
            }
        ),
        source,
    )
    store = UsageStore(tmp_path / "store")
    units = {"o10": "h", "o20": "GB", "o40": "seat", "o80": "GB"}
    summary = store.import_file(
        source,
        source="test",
        customers={f"c{c}": c for c in (1, 2, 3)},
        offerings={k: Offering(int(k[1:]), u) for k, u in units.items()},
    )
    assert (summary.rows_imported, summary.rows_rejected) == (usage.num_rows, 0), summary
    (part,) = (tmp_path / "store" / "period=2024-09").glob("*.parquet")
    starts = pq.read_table(part)["start_time"].to_pylist()
    assert starts == sorted(starts)
    meta = pq.read_metadata(part)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups - 1)] == [500] * (
        meta.num_row_groups - 1
    )
    glob = store.parquet_glob("2024-09")
    assert layout.time_ordered(glob, [CUT, sep(20)])
    assert rate("duckdb", glob, PRICES, TIERS, "2024-09").equals(
        rate("duckdb", usage, PRICES, TIERS, "2024-09")
    )
