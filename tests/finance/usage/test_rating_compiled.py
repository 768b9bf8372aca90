"""Rating keeps its checked catalogue and compiled query while the prices are unchanged
(servicebook.finance.usage.rating.compiled): a kept query must never outlive a change."""

from __future__ import annotations

from decimal import Decimal as D

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from servicebook.finance.usage.rating import PRICE_SCHEMA, RatingInputError, compiled, rate
from tests.finance.usage.test_rating import PRICES, TIERS, USAGE, price, sep


@pytest.fixture(autouse=True)
def empty_stores():
    for store in (compiled.queries, compiled.catalogues):
        store.clear()
    yield
    for store in (compiled.queries, compiled.catalogues):
        store.clear()


@pytest.fixture
def usage_glob(tmp_path):
    pq.write_table(USAGE, tmp_path / "part-a.parquet")
    return str(tmp_path / "*.parquet")


def as_if_fresh(*args):
    """What a process that never rated before would return."""
    for store in (compiled.queries, compiled.catalogues):
        store.clear()
    return rate(*args)


def test_a_second_run_reuses_the_compiled_query_on_another_connection(usage_glob):
    first = rate("duckdb", usage_glob, PRICES, TIERS, "2024-09")
    second = rate(ibis.duckdb.connect(), usage_glob, PRICES, TIERS, "2024-09")
    assert (compiled.queries.misses, compiled.queries.hits) == (1, 1)
    assert (compiled.catalogues.misses, compiled.catalogues.hits) == (1, 1)
    assert second.equals(first)
    # the same lines as the path that keeps nothing (usage handed over as Arrow)
    assert first.equals(rate("duckdb", USAGE, PRICES, TIERS, "2024-09"))
    assert compiled.queries.misses == 1


def _set(table: pa.Table, row: int, column: str, value) -> pa.Table:
    rows = table.to_pylist()
    rows[row][column] = value
    return pa.Table.from_pylist(rows, schema=table.schema)


CHANGES = {
    # a price the SQL reads from its in-memory price table, not from a literal
    "unit price": lambda p, t: (_set(p, 0, "unit_price", D("0.2")), t),
    # the month's price segments move (literals of the SQL)
    "validity": lambda p, t: (_set(_set(p, 0, "valid_to", sep(10)), 1, "valid_from", sep(10)), t),
    "override added": lambda p, t: (
        pa.concat_tables(
            [p, pa.Table.from_pylist([price(14, 80, "per_unit", "0.5", customer=4)], PRICE_SCHEMA)]
        ),
        t,
    ),
    "tier price": lambda p, t: (p, _set(t, 1, "unit_price", D("0.09"))),
    "flat becomes per unit": lambda p, t: (_set(p, 4, "charge_model", "per_unit"), t),
    "currency": lambda p, t: (_set(p, 11, "currency", "JPY"), t),
}


@pytest.mark.parametrize("change", CHANGES)
def test_changed_prices_get_a_query_of_their_own(usage_glob, change):
    before = rate("duckdb", usage_glob, PRICES, TIERS, "2024-09")
    prices, tiers = CHANGES[change](PRICES, TIERS)
    after = rate("duckdb", usage_glob, prices, tiers, "2024-09")
    assert compiled.queries.misses == 2
    assert not after.equals(before)
    assert after.equals(as_if_fresh("duckdb", usage_glob, prices, tiers, "2024-09"))
    # and back: the first catalogue's query is still right
    assert rate("duckdb", usage_glob, PRICES, TIERS, "2024-09").equals(before)


def test_another_period_gets_a_query_of_its_own(usage_glob):
    rate("duckdb", usage_glob, PRICES, TIERS, "2024-09")
    october = rate("duckdb", usage_glob, PRICES, TIERS, "2024-10")
    assert compiled.queries.misses == 2
    assert october.equals(as_if_fresh("duckdb", usage_glob, PRICES, TIERS, "2024-10"))


def test_a_kept_query_reads_the_files_there_are_now(tmp_path, usage_glob):
    """The query is kept, not its data: a file added under the glob is rated on the next run."""
    before = rate("duckdb", usage_glob, PRICES, TIERS, "2024-09")
    pq.write_table(USAGE.slice(0, 1), tmp_path / "part-b.parquet")  # 600 h more at 0.1
    after = rate("duckdb", usage_glob, PRICES, TIERS, "2024-09")
    assert compiled.queries.hits == 1
    assert after.equals(as_if_fresh("duckdb", usage_glob, PRICES, TIERS, "2024-09"))
    total = pc.sum(after["amount"]).as_py() - pc.sum(before["amount"]).as_py()
    assert total == D("60.00")


def test_files_of_another_schema_at_the_same_path_get_a_query_of_their_own(tmp_path, usage_glob):
    rate("duckdb", usage_glob, PRICES, TIERS, "2024-09")
    narrower = USAGE.set_column(
        USAGE.schema.get_field_index("quantity"),
        "quantity",
        pc.cast(USAGE["quantity"], pa.decimal128(12, 3)),
    )
    pq.write_table(narrower, tmp_path / "part-a.parquet")
    lines = rate("duckdb", usage_glob, PRICES, TIERS, "2024-09")
    assert compiled.queries.misses == 2
    assert lines.equals(rate("duckdb", USAGE, PRICES, TIERS, "2024-09"))


def test_bad_prices_are_refused_on_every_run(usage_glob):
    overlapping = _set(PRICES, 1, "valid_from", sep(10))  # overlaps price 1 until the 15th
    for _ in range(2):
        with pytest.raises(RatingInputError):
            rate("duckdb", usage_glob, overlapping, TIERS, "2024-09")
    assert compiled.catalogues.hits == 0


def test_the_stores_keep_the_most_recently_used():
    store = compiled.Store(keep=2)
    for key in ("a", "b", "a", "c"):
        store.get(key, lambda key=key: key.upper())
    assert store.get("a", lambda: "new") == "A"
    assert store.get("b", lambda: "new") == "new"  # dropped when "c" came
