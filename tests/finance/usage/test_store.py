"""Usage store: validation with reasons, atomic idempotent imports, exact totals."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicebook.finance.usage.reading import parse_decimals, parse_utc_timestamps, read_raw
from servicebook.finance.usage.records import QUANTITY_TYPE, Offering, validate
from servicebook.finance.usage.store import UsageStore

DATA = Path(__file__).resolve().parents[2] / "data" / "usage"
SAMPLE = DATA / "sample.csv"
CUSTOMERS = {"acme": 1, "globex": 2}
OFFERINGS = {"vm.small": Offering(10, "h"), "storage": (20, "GB-month")}

HEADER = ["record_id", "customer", "offering", "quantity", "unit", "start_time", "end_time"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def row(rid: str, qty: str = "1", customer: str = "acme", day: int = 3) -> list[str]:
    return [
        rid,
        customer,
        "vm.small",
        qty,
        "h",
        f"2024-09-{day:02d}T10:00:00Z",
        f"2024-09-{day:02d}T11:00:00Z",
    ]


def test_validation_names_row_and_field_for_every_kind_of_bad_row():
    result = validate(read_raw(SAMPLE), customers=CUSTOMERS, offerings=OFFERINGS, period="2024-09")
    assert result.rows_read == 15
    assert result.accepted["record_id"].to_pylist() == ["u-1", "u-2", "u-3"]
    rej = result.rejected
    reasons = dict(zip(rej["row_number"].to_pylist(), rej["reason"].to_pylist(), strict=True))
    assert reasons == {
        4: "row 4: customer: unknown customer 'nobody'",
        5: "row 5: quantity: negative quantity '-3'",
        6: "row 6: quantity: non-numeric quantity 'abc'",
        7: "row 7: unit: unit 'GB' is not the offering's unit",
        8: "row 8: start_time: start_time '2024-10-03T10:00:00Z' is outside period 2024-09;"
        " end_time: end_time '2024-10-03T11:00:00Z' is after the end of 2024-09",
        9: "row 9: end_time: end_time '2024-09-03T09:00:00Z' is before start_time",
        10: "row 10: record_id: duplicate record_id 'u-1' (first at row 1)",
        11: "row 11: record_id: missing required field",
        12: "row 12: offering: unknown offering 'unknown.thing'",
        13: "row 13: quantity: quantity '1.1234567' does not fit decimal(18, 6)",
        14: "row 14: start_time: invalid timestamp 'not a time'",
        15: "row 15: tags: tags '{bad json' are not a JSON object",
    }
    # original columns are kept as text
    assert result.rejected.column_names[:9] == read_raw(SAMPLE).column_names


def test_accepted_records_are_exact_and_normalised():
    acc = validate(read_raw(SAMPLE), customers=CUSTOMERS, offerings=OFFERINGS).accepted
    assert acc.schema.field("quantity").type == QUANTITY_TYPE
    rows = acc.to_pylist()
    assert rows[1]["quantity"] == Decimal("100.5")
    assert rows[2]["unit"] == "h"  # canonical unit of the offering, 'H' accepted
    assert rows[2]["start_time"].isoformat() == "2024-09-03T08:00:00+00:00"  # +02:00 -> UTC
    assert rows[1]["start_time"].isoformat() == "2024-09-01T00:00:00+00:00"  # naive = UTC
    assert rows[0]["customer_id"] == 1 and rows[2]["customer_id"] == 2
    assert rows[0]["tags"] == '{"env": "prod"}'


def test_currency_mismatch_and_missing_column(tmp_path):
    path = write_csv(
        tmp_path / "c.csv",
        [[*row("a"), "1.5", "EUR"], [*row("b"), "2", "USD"]],
        [*HEADER, "cost", "currency"],
    )
    result = validate(read_raw(path), customers=CUSTOMERS, offerings=OFFERINGS, currency="EUR")
    assert result.accepted["record_id"].to_pylist() == ["a"]
    assert result.rejected["reason"].to_pylist() == ["row 2: currency: currency 'USD' is not EUR"]
    with pytest.raises(ValueError, match="lacks required column"):
        validate(pa.table({"record_id": ["x"]}), customers=CUSTOMERS, offerings=OFFERINGS)


def test_parsers_never_go_through_float():
    values, bad, precise = parse_decimals(
        pa.array(["0.1", "+.5", "1.500000000", "1e3", "1234567890123", None]), QUANTITY_TYPE
    )
    assert values.to_pylist()[:3] == [Decimal("0.1"), Decimal("0.5"), Decimal("1.5")]
    assert bad.to_pylist() == [False, False, False, True, False, False]
    assert precise.to_pylist() == [False, False, False, False, True, False]
    ts, invalid = parse_utc_timestamps(pa.array(["2024-09-01 00:00:00", "2024-13-01", None]))
    assert invalid.to_pylist() == [False, True, False]
    assert ts[0].as_py().isoformat() == "2024-09-01T00:00:00+00:00"


def test_import_is_atomic_idempotent_and_accounted(tmp_path):
    store = UsageStore(tmp_path / "usage")
    first = store.import_file(
        SAMPLE, source="meter", customers=CUSTOMERS, offerings=OFFERINGS, period="2024-09"
    )
    assert (first.rows_read, first.rows_imported, first.rows_skipped_duplicate) == (15, 3, 0)
    assert first.rows_rejected == 12
    assert first.quantity_totals == {"GB-month": "100.500000", "h": "25.250000"}
    assert first.periods == ["2024-09"]
    with open(first.rejects_path, newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert [r["row_number"] for r in rejects][:2] == ["4", "5"]
    assert rejects[0]["customer"] == "nobody" and rejects[0]["reason"].startswith("row 4:")

    # the same file again: nothing changes
    before = sorted(p.name for p in store.root.rglob("*"))
    manifest_before = (store.root / "_manifest.json").read_bytes()
    again = store.import_file(
        SAMPLE, source="meter", customers=CUSTOMERS, offerings=OFFERINGS, period="2024-09"
    )
    assert again.already_imported and again.rows_imported == 0
    assert (
        again.rows_read == again.rows_imported + again.rows_skipped_duplicate + again.rows_rejected
    )
    assert sorted(p.name for p in store.root.rglob("*")) == before
    assert (store.root / "_manifest.json").read_bytes() == manifest_before

    # another file repeating stored record ids: only new ones are imported
    other = write_csv(tmp_path / "other.csv", [row("u-1"), row("u-2"), row("u-99", "2.5")])
    s2 = store.import_file(other, source="meter", customers=CUSTOMERS, offerings=OFFERINGS)
    assert (s2.rows_imported, s2.rows_skipped_duplicate, s2.rows_rejected) == (1, 2, 0)
    assert s2.rejects_path is None
    records = store.read("2024-09")
    assert sorted(records["record_id"].to_pylist()) == ["u-1", "u-2", "u-3", "u-99"]
    assert sum(records["quantity"].to_pylist()) == Decimal("128.25")

    manifest = json.loads((store.root / "_manifest.json").read_text())["imports"]
    assert [m["rows_imported"] for m in manifest] == [3, 1]
    assert manifest[0]["file_hash"] == first.file_hash
    assert not list(store.root.rglob("*.tmp"))  # no temporary file left behind
    assert store.periods() == ["2024-09"]
    assert len(list(Path(store.parquet_glob("2024-09")).parent.glob("*.parquet"))) == 2
    assert pq.read_schema(next(store.root.rglob("*.parquet"))).field("quantity").type == (
        QUANTITY_TYPE
    )


def test_rows_with_the_wrong_number_of_fields_are_rejected_not_the_file(tmp_path):
    """A short row, a long row and a quoted multi-line value: the row numbers stay exact."""
    path = tmp_path / "ragged.csv"
    lines = [",".join(HEADER)]
    lines.append(",".join(row("r-1")))  # row 1
    lines.append("r-2,acme,vm.small,1,h")  # row 2: 5 fields
    lines.append(",".join(row("r-3", qty="-1")))  # row 3: a bad value
    lines.append('"r-4\nwrapped",' + ",".join(row("x")[1:]))  # row 4: a newline in a value
    lines.append(",".join([*row("r-5"), "extra"]))  # row 5: 8 fields
    lines.append("")  # a blank line is not a row
    lines.append(",".join(row("r-6", qty="2")))  # row 6
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ValueError, match=r"ragged\.csv: row 2: has 5 fields, the header has 7"):
        read_raw(path)  # without a place to put them, malformed rows are an error

    store = UsageStore(tmp_path / "usage")
    summary = store.import_file(
        path, source="meter", customers=CUSTOMERS, offerings=OFFERINGS, period="2024-09"
    )
    assert (summary.rows_read, summary.rows_imported, summary.rows_rejected) == (6, 3, 3)
    assert sorted(store.read("2024-09")["record_id"].to_pylist()) == ["r-1", "r-4\nwrapped", "r-6"]
    with open(summary.rejects_path, newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert [r["row_number"] for r in rejects] == ["2", "3", "5"]
    assert rejects[0]["reason"] == (
        "row 2: has 5 fields, the header has 7: 'r-2,acme,vm.small,1,h'"
    )
    assert rejects[1]["reason"].startswith("row 3: quantity: negative quantity")
    assert rejects[2]["reason"].startswith("row 5: has 8 fields, the header has 7")


def test_records_are_partitioned_by_period(tmp_path):
    store = UsageStore(tmp_path)
    rows = [row("a", day=3), [*row("b")[:5], "2024-10-02T00:00:00Z", "2024-10-02T01:00:00Z"]]
    s = store.import_file(
        write_csv(tmp_path / "two.csv", rows), source="x", customers=CUSTOMERS, offerings=OFFERINGS
    )
    assert s.periods == ["2024-09", "2024-10"]
    assert store.read("2024-10")["record_id"].to_pylist() == ["b"]


def test_crash_leftover_part_of_the_same_file_is_overwritten(tmp_path):
    store = UsageStore(tmp_path / "s")
    path = write_csv(tmp_path / "f.csv", [row("a"), row("b")])
    s = store.import_file(path, source="x", customers=CUSTOMERS, offerings=OFFERINGS)
    (store.root / "_manifest.json").unlink()  # as if we crashed before the manifest
    again = store.import_file(path, source="x", customers=CUSTOMERS, offerings=OFFERINGS)
    assert (again.rows_imported, again.rows_skipped_duplicate) == (2, 0)
    assert store.read()["record_id"].to_pylist() == ["a", "b"]
    assert s.file_hash == again.file_hash


good_row = st.builds(
    lambda rid, cust, qty, day: row(f"r{rid}", qty, cust, day),
    st.integers(0, 30),
    st.sampled_from(["acme", "globex", "nobody"]),
    st.one_of(
        st.decimals(min_value=-5, max_value=10**6, places=3, allow_nan=False).map(str),
        st.sampled_from(["", "x", "1.1234567"]),
    ),
    st.integers(1, 30),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.lists(good_row, max_size=12), min_size=1, max_size=3))
def test_rows_read_always_adds_up(tmp_path_factory, batches):
    root = tmp_path_factory.mktemp("prop")
    store = UsageStore(root / "store")
    stored: set[str] = set()
    for k, rows in enumerate(batches):
        path = write_csv(root / f"b{k}.csv", rows)
        s = store.import_file(path, source="p", customers=CUSTOMERS, offerings=OFFERINGS)
        assert s.rows_read == len(rows)
        assert s.rows_read == s.rows_imported + s.rows_skipped_duplicate + s.rows_rejected
        if not s.already_imported:
            stored |= set(store.read()["record_id"].to_pylist())
    ids = store.read()["record_id"].to_pylist()
    assert len(ids) == len(set(ids)) == len(stored)
    total = sum((Decimal(m["quantity_totals"].get("h", "0")) for m in store.manifest()), Decimal(0))
    assert total == sum(store.read()["quantity"].to_pylist(), Decimal(0))
