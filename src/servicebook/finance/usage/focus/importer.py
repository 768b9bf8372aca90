"""Importing a FOCUS bill into the usage store, allocated: each row charged in the month of its
billing period, a bad row rejected (into the rejects file, with its reasons), never the file."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from servicebook.finance.usage.focus.allocate import (
    AllocationRules,
    allocate,
    allocation_report,
    owners,
)
from servicebook.finance.usage.focus.reading import (
    FOCUS_DECIMAL,
    exact_text,
    most_common,
    read_focus_rows,
)
from servicebook.finance.usage.reading import TS_TYPE, CsvProblems, read_raw
from servicebook.finance.usage.records import add_malformed
from servicebook.finance.usage.store import ImportSummary, atomic_write, file_hash

#: what the usage store keeps of each accepted FOCUS row (under ``<root>/focus/period=…/``)
FOCUS_STORE_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("row_number", pa.int64()),
        ("BilledCost", FOCUS_DECIMAL),
        ("EffectiveCost", FOCUS_DECIMAL),
        ("ListCost", FOCUS_DECIMAL),
        ("BillingCurrency", pa.string()),
        ("BillingPeriodStart", TS_TYPE),
        ("ChargePeriodStart", TS_TYPE),
        ("ChargePeriodEnd", TS_TYPE),
        ("ChargeCategory", pa.string()),
        ("ProviderName", pa.string()),
        ("ServiceName", pa.string()),
        ("SubAccountId", pa.string()),
        ("ResourceId", pa.string()),
        ("Tags", pa.string()),
        ("ConsumedQuantity", FOCUS_DECIMAL),
        ("ConsumedUnit", pa.string()),
        ("customer", pa.string()),  # the customer key the rules chose; null: shared pool
        ("period", pa.string()),  # the month the cost is charged in
        ("import_hash", pa.string()),
    ]
)


def _record_ids(raw: pa.Table) -> list[str]:
    """A record id per row: the export's ``Id`` column when it has one, else a content hash."""
    if "Id" in raw.column_names and raw["Id"].null_count == 0:
        return [str(v) for v in raw["Id"].to_pylist()]
    names = sorted(raw.column_names)
    rows = zip(*(raw[c].to_pylist() for c in names), strict=True)
    return [
        "sha1:"
        + hashlib.sha1("\x1f".join("" if v is None else v for v in row).encode()).hexdigest()
        for row in rows
    ]


def import_focus(
    store: Any,
    path: str | Path,
    *,
    rules: AllocationRules,
    spread_shared: bool = False,
    billing_currency: str | None = None,
    period: str | None = None,
    closed_periods: frozenset[str] | set[str] = frozenset(),
    source: str = "focus",
) -> Any:
    """Import a FOCUS bill into ``store`` (a :class:`..store.UsageStore`), allocated.

    Each row is charged in the month of its ``BillingPeriodStart`` (else ``ChargePeriodStart``).
    A row is rejected -- into the rejects file, with its reasons -- for an unreadable or missing
    cost, currency or charge period, a currency other than ``billing_currency`` (default: the
    file's most common one), a month other than ``period`` (when given) or a closed month, or an
    ``Id`` seen earlier in the file.  A row whose record id the store already holds for that
    month is skipped.  Accepted rows are written to ``<root>/focus/period=<month>/``; the
    manifest entry (``format = "focus"``) carries, per month, the exact allocation of both
    ``BilledCost`` and ``EffectiveCost`` (see :func:`allocate`) under ``extra``.  Importing the
    same file again changes nothing.
    """
    digest = file_hash(path)
    root = Path(store.root)
    with store._locked():
        entries = store.manifest()
        previous = store.find_import(digest, entries)
        if previous is not None:
            return previous
        bill = _read_bill(path, billing_currency, period, closed_periods)
        ok = [not p for p in bill.problems]
        skipped = _drop_held(root, bill, ok)
        accepted = bill.table.filter(pa.array(ok, pa.bool_()))
        months = [m for m, k in zip(bill.months, ok, strict=True) if k]
        stored = _stored_rows(bill, ok, accepted, owners(accepted, rules), digest)
        allocation = _write_months(root, stored, accepted, months, digest, rules, spread_shared)
        rejected = [i for i, problems in enumerate(bill.problems) if problems]
        rejects_path = _write_rejects(root, bill, rejected, digest)
        totals = focus_totals(stored) if stored.num_rows else {}
        summary = ImportSummary(
            file_hash=digest,
            source=source,
            periods=sorted({month for month in months if month is not None}),
            rows_read=bill.table.num_rows + len(bill.malformed),
            rows_imported=stored.num_rows,
            rows_skipped_duplicate=skipped,
            rows_rejected=len(rejected) + len(bill.malformed),
            quantity_totals={},
            cost_totals={k: exact_text(v) for k, v in totals.get("BilledCost", {}).items()},
            rejects_path=rejects_path,
            imported_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            format="focus",
            extra={
                "billing_currency": bill.currency,
                "spread_shared": spread_shared,
                "effective_totals": {
                    k: exact_text(v) for k, v in totals.get("EffectiveCost", {}).items()
                },
                "allocation": allocation,
            },
        )
        assert summary.rows_read == (
            summary.rows_imported + summary.rows_skipped_duplicate + summary.rows_rejected
        )
        store._record(entries, summary)
        return summary


@dataclass
class _Bill:
    """A FOCUS file read row by row: per row its month, record id, data row number and problems
    (empty: the row may be imported); the rows that could not even be split are ``malformed``."""

    table: pa.Table
    raw: pa.Table
    problems: list[list[str]]
    numbers: list[int]
    months: list[str | None]
    ids: list[str]
    currency: str
    malformed: list


def _read_bill(path, billing_currency, period, closed_periods) -> _Bill:
    unreadable = CsvProblems()  # rows with the wrong number of fields: rejected, not the file
    table, raw, problems = read_focus_rows(read_raw(path, unreadable))
    n = table.num_rows
    numbers = list(unreadable.row_numbers or range(1, n + 1))  # the file's data row of each row
    currencies = [c.upper() if c else None for c in table["BillingCurrency"].to_pylist()]
    if billing_currency is None:
        billing_currency = most_common(currencies) or ""
    billing_currency = billing_currency.upper()
    anchor = (
        table["BillingPeriodStart"]
        if "BillingPeriodStart" in table.column_names
        else table["ChargePeriodStart"]
    )
    anchor = pc.coalesce(anchor, table["ChargePeriodStart"])
    months = pc.strftime(anchor, format="%Y-%m").to_pylist()
    ids = _record_ids(raw)
    first_row: dict[str, int] = {}
    for i in range(n):
        if currencies[i] and currencies[i] != billing_currency:
            problems[i].append(
                f"BillingCurrency: {currencies[i]!r} is not the bill's currency {billing_currency}"
            )
        if months[i] is not None and period is not None and months[i] != period:
            problems[i].append(f"charge period {months[i]} is outside period {period}")
        elif months[i] in closed_periods:
            problems[i].append(f"period {months[i]} is closed: it only takes adjustments")
        if ids[i] in first_row:
            problems[i].append(f"Id: duplicate {ids[i]!r} (first at row {first_row[ids[i]]})")
        else:
            first_row[ids[i]] = numbers[i]
    return _Bill(table, raw, problems, numbers, months, ids, billing_currency, unreadable.malformed)


def _drop_held(root: Path, bill: _Bill, ok: list[bool]) -> int:
    """Leave out (in ``ok``) the records the store already holds for their month; how many."""
    skipped = 0
    seen: dict[str, set[str]] = {}
    for i, month in enumerate(bill.months):
        if not ok[i] or month is None:
            continue
        if month not in seen:
            held: set[str] = set()
            for f in sorted((root / "focus" / f"period={month}").glob("part-*.parquet")):
                held.update(pq.read_table(f, columns=["record_id"])["record_id"].to_pylist())
            seen[month] = held
        if bill.ids[i] in seen[month]:
            ok[i] = False
            skipped += 1
    return skipped


def _stored_rows(bill: _Bill, ok, accepted: pa.Table, owner, digest: str) -> pa.Table:
    """What the store keeps of the accepted rows (:data:`FOCUS_STORE_SCHEMA`)."""
    columns = {}
    for field_ in FOCUS_STORE_SCHEMA:
        if field_.name in accepted.column_names:
            columns[field_.name] = pc.cast(accepted[field_.name], field_.type)
        else:
            columns[field_.name] = pa.nulls(accepted.num_rows, field_.type)
    columns["record_id"] = pa.array(
        [r for r, k in zip(bill.ids, ok, strict=True) if k], pa.string()
    )
    columns["row_number"] = pa.array([bill.numbers[i] for i, k in enumerate(ok) if k], pa.int64())
    columns["customer"] = pa.array(owner, pa.string())
    columns["period"] = pa.array(
        [m for m, k in zip(bill.months, ok, strict=True) if k], pa.string()
    )
    columns["import_hash"] = pa.array([digest] * accepted.num_rows, pa.string())
    return pa.table(columns, schema=FOCUS_STORE_SCHEMA)


def _write_months(root, stored, accepted, months, digest, rules, spread_shared) -> dict:
    """Write each month's rows; return each month's exact allocation of both cost columns."""
    allocation: dict[str, Any] = {}
    part_name = f"part-{digest[:24]}.parquet"
    for month in sorted(set(months)):
        rows = stored.filter(pc.equal(stored["period"], month))
        dest = root / "focus" / f"period={month}" / part_name
        atomic_write(dest, lambda tmp, t=rows: pq.write_table(t, tmp))
        month_rows = accepted.filter(pa.array([m == month for m in months], pa.bool_()))
        allocation[month] = {
            col: allocation_report(
                allocate(month_rows, rules, cost_column=col, spread_shared=spread_shared)
            )
            for col in ("BilledCost", "EffectiveCost")
            if col in month_rows.column_names
        }
    return allocation


def _write_rejects(root: Path, bill: _Bill, rejected: list[int], digest: str) -> str | None:
    """The rejects file (raw values, row number, reasons), in file order; None without one."""
    if not rejected and not bill.malformed:
        return None
    take = pa.array(rejected, pa.int64())
    rejects = {name: pc.take(bill.raw[name], take) for name in bill.raw.column_names}
    rejects["row_number"] = pa.array([bill.numbers[i] for i in rejected], pa.int64())
    rejects["reason"] = pa.array(
        [f"row {bill.numbers[i]}: " + "; ".join(bill.problems[i]) for i in rejected], pa.string()
    )
    ordered = add_malformed(pa.table(rejects), bill.malformed)
    dest = root / "_rejects" / f"{digest[:24]}.csv"
    atomic_write(dest, lambda tmp: pacsv.write_csv(ordered, tmp))
    return str(dest)


def read_stored(root: str | Path, period: str | None = None) -> pa.Table:
    """The FOCUS rows the store holds (one month, or all), :data:`FOCUS_STORE_SCHEMA`."""
    base = Path(root) / "focus"
    pattern = f"period={period}/*.parquet" if period else "period=*/*.parquet"
    files = sorted(base.glob(pattern))
    if not files:
        return FOCUS_STORE_SCHEMA.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=FOCUS_STORE_SCHEMA) for f in files)


def focus_totals(table: pa.Table) -> dict[str, Any]:
    """Row count and exact cost totals per currency (BilledCost, EffectiveCost)."""
    out: dict[str, Any] = {"rows": table.num_rows, "columns": table.num_columns}
    for col in ("BilledCost", "EffectiveCost"):
        if col in table.column_names:
            out[col] = {}
            grouped = table.group_by("BillingCurrency").aggregate([(col, "sum")])
            for row in grouped.to_pylist():
                out[col][row["BillingCurrency"]] = row[f"{col}_sum"]
    return out
