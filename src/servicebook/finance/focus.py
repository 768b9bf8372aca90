"""FOCUS: read cloud cost-and-usage exports, allocate them to customers, export our own charges.

FOCUS (the FinOps Open Cost and Usage Specification, https://focus.finops.org) is the common
column set in which AWS, Azure, Google Cloud, Oracle and others publish their bills: one row per
charge with ``BilledCost``, ``EffectiveCost``, ``ListCost``, ``BillingCurrency``, charge and
billing periods, ``ServiceName``, ``SubAccountId``, ``ResourceId``, ``Tags``...

* :func:`read_focus` reads FOCUS 1.0-and-later files, CSV or Parquet, surviving the quirks of real
  exports: the literal string ``NULL``, timestamps such as ``2024-09-01 00:00:00`` (taken as UTC),
  mixed casing of enumerations (``Usage-based`` / ``Usage-Based``, normalised to the spec's
  spelling), empty values, non-spec columns (kept as text) and ``Tags`` as a JSON string.  Money
  and quantity columns are parsed from text straight into decimal(38, 15) -- never through float.
* :func:`allocate` assigns each row's cost to an internal customer from caller-supplied mappings
  and reports allocated, shared and unallocated totals that add up exactly to the file total.
* :func:`export_charges` writes our own rated charge lines (see :mod:`.rating`) as a FOCUS-shaped
  dataset (CSV and Parquet) that :func:`read_focus` reads back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from servicebook.finance.usage_store import (
    TS_TYPE,
    as_text,
    parse_decimals,
    parse_utc_timestamps,
    period_bounds,
    read_raw,
)

#: decimal type of every FOCUS money, price and quantity column (15 fractional digits)
FOCUS_DECIMAL = pa.decimal128(38, 15)

DECIMAL_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "ConsumedQuantity",
    "PricingQuantity",
    "CommitmentDiscountQuantity",
)
TIMESTAMP_COLUMNS = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
)
REQUIRED_COLUMNS = ("BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd")

#: spec spelling of enumerated values, by column (matched case-insensitively)
ENUMS: dict[str, tuple[str, ...]] = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "CommitmentDiscountStatus": ("Used", "Unused"),
    "CommitmentDiscountCategory": ("Spend", "Usage"),
}


class FocusFormatError(ValueError):
    """A FOCUS file cannot be read (missing column, non-numeric money...)."""


def read_focus(source: str | Path | pa.Table) -> pa.Table:
    """Read a FOCUS cost-and-usage file (CSV or Parquet) or normalise an Arrow table.

    Money, price and quantity columns become decimal(38, 15); the four period columns become
    timestamp[us, UTC]; enumerations are normalised to the spec's casing; every other column is
    text (``Tags`` stays a JSON string -- see :func:`tag_values`).  Raises
    :class:`FocusFormatError` naming the column and row of the first bad value.
    """
    table = source if isinstance(source, pa.Table) else read_raw(source)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise FocusFormatError(f"not a FOCUS file: missing column(s) {', '.join(missing)}")
    columns = {}
    for name in table.column_names:
        text = as_text(table[name])
        if name in DECIMAL_COLUMNS:
            if pa.types.is_decimal(table[name].type) and table[name].type.scale <= 15:
                columns[name] = pc.cast(table[name], FOCUS_DECIMAL)
                continue
            values, bad, too_precise = parse_decimals(text, FOCUS_DECIMAL)
            problem = pc.or_(bad, too_precise)
            if pc.any(problem).as_py():
                row = pc.indices_nonzero(problem)[0].as_py()
                raise FocusFormatError(
                    f"row {row + 1}: {name}: {text[row].as_py()!r} is not a decimal with at most"
                    " 15 fractional digits"
                )
            columns[name] = values
        elif name in TIMESTAMP_COLUMNS:
            values, bad = parse_utc_timestamps(text)
            if pc.any(bad).as_py():
                row = pc.indices_nonzero(bad)[0].as_py()
                raise FocusFormatError(
                    f"row {row + 1}: {name}: {text[row].as_py()!r} is not a timestamp"
                )
            columns[name] = values
        elif name in ENUMS:
            spelling = {v.lower(): v for v in ENUMS[name]}
            lowered = pc.utf8_lower(text)
            keys = pa.array(list(spelling), pa.string())
            idx = pc.index_in(lowered, value_set=keys)
            canonical = pc.take(pa.array(list(spelling.values()), pa.string()), idx)
            columns[name] = pc.if_else(pc.is_null(idx), text, canonical)
        else:
            columns[name] = text
    return pa.table(columns)


def tag_values(table: pa.Table, key: str) -> list[str | None]:
    """Value of tag ``key`` per row (``Tags`` is a JSON object as text; null when absent)."""
    if "Tags" not in table.column_names:
        return [None] * table.num_rows
    out: list[str | None] = []
    cache: dict[str, dict[str, Any]] = {}
    for raw in table["Tags"].to_pylist():
        if raw is None:
            out.append(None)
            continue
        tags = cache.get(raw)
        if tags is None:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {}
            tags = parsed if isinstance(parsed, dict) else {}
            cache[raw] = tags
        value = tags.get(key)
        out.append(None if value is None else str(value))
    return out


# --------------------------------------------------------------------------- allocation


@dataclass(frozen=True)
class AllocationRules:
    """How cloud cost maps to customers.

    Precedence, most specific first: ``resources`` (ResourceId -> customer), then ``tags`` (tag
    key -> tag value -> customer; keys are tried in the mapping's order), then ``sub_accounts``
    (SubAccountId -> customer).  A row no rule maps goes to the shared pool.  Mapping a value to
    ``None`` sends it to the shared pool explicitly.
    """

    resources: Mapping[str, str | None] = field(default_factory=dict)
    tags: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    sub_accounts: Mapping[str, str | None] = field(default_factory=dict)


@dataclass
class AllocationResult:
    """Cost per customer; ``allocated + shared + unallocated == total`` exactly."""

    cost_column: str
    currency: str
    total: Decimal
    direct: dict[str, Decimal]  # cost mapped to each customer by the rules
    shared_spread: dict[str, Decimal]  # each customer's share of the pool (if spread)
    allocated: dict[str, Decimal]  # direct + shared_spread
    shared: Decimal  # pool reported separately (not spread)
    unallocated: Decimal  # pool that could not be spread (no positive allocated cost)
    rows: dict[str, int]  # rows per customer, "" for the pool
    places: int

    def check(self) -> None:
        """Raise if the parts do not add up to the total (they always should)."""
        parts = sum(self.allocated.values(), Decimal(0)) + self.shared + self.unallocated
        if parts != self.total:
            raise AssertionError(f"allocation parts {parts} != file total {self.total}")


def _scale(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def largest_remainder(
    amount: Decimal, weights: Mapping[str, Decimal], places: int
) -> dict[str, Decimal]:
    """Split ``amount`` in proportion to positive ``weights`` in units of 10^-places, exactly.

    Each share is floored to a whole unit; the units left over go one by one to the largest
    fractional remainders (ties broken by key), so the shares sum to ``amount`` to the last digit.
    ``amount`` must be a whole number of units.
    """
    unit = Decimal(1).scaleb(-places)
    units = amount / unit
    if units != units.to_integral_value():
        raise ValueError(f"{amount} cannot be split exactly in units of {unit}")
    total_units = int(units)
    positive = {k: w for k, w in weights.items() if w > 0}
    weight_sum = sum(positive.values(), Decimal(0))
    if not positive:
        raise ValueError("no positive weight to spread on")
    exact = {
        k: Fraction(total_units) * Fraction(w) / Fraction(weight_sum) for k, w in positive.items()
    }
    floors = {k: v.numerator // v.denominator for k, v in exact.items()}
    left = total_units - sum(floors.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - floors[k]), k))
    for k in order[:left]:
        floors[k] += 1
    return {k: (Decimal(v) * unit) for k, v in floors.items()}


def owners(table: pa.Table, rules: AllocationRules) -> list[str | None]:
    """The customer each row's cost goes to under ``rules`` (``None``: the shared pool)."""
    n = table.num_rows
    owner: list[str | None] = [None] * n
    decided = [False] * n

    def apply(values: Sequence[str | None], mapping: Mapping[str, str | None]) -> None:
        for i, v in enumerate(values):
            if not decided[i] and v is not None and v in mapping:
                owner[i] = mapping[v]
                decided[i] = True

    if rules.resources and "ResourceId" in table.column_names:
        apply(table["ResourceId"].to_pylist(), rules.resources)
    for key, mapping in rules.tags.items():
        apply(tag_values(table, key), mapping)
    if rules.sub_accounts and "SubAccountId" in table.column_names:
        apply(table["SubAccountId"].to_pylist(), rules.sub_accounts)
    return owner


def allocate(
    table: pa.Table,
    rules: AllocationRules,
    *,
    cost_column: str = "BilledCost",
    spread_shared: bool = False,
    places: int | None = None,
) -> AllocationResult:
    """Allocate the cost of a FOCUS table (from :func:`read_focus`) to customers.

    With ``spread_shared`` the shared pool is spread over the customers in proportion to their
    direct (positive) allocated cost with :func:`largest_remainder` at ``places`` decimal places
    (default: as many as the pool needs, so nothing is rounded away); otherwise it is reported as
    ``shared``.  If there is nothing to spread on, the pool is reported as ``unallocated``.
    All rows must share one ``BillingCurrency``.
    """
    if cost_column not in table.column_names:
        raise FocusFormatError(f"no {cost_column} column")
    currencies = {c for c in table["BillingCurrency"].to_pylist() if c is not None}
    if len(currencies) > 1:
        raise ValueError(f"cannot allocate a file with several currencies: {sorted(currencies)}")
    costs = [c if c is not None else Decimal(0) for c in table[cost_column].to_pylist()]
    owner = owners(table, rules)

    direct: dict[str, Decimal] = {}
    rows: dict[str, int] = {}
    pool = Decimal(0)
    for who, cost in zip(owner, costs, strict=True):
        if who is None:
            pool += cost
            rows[""] = rows.get("", 0) + 1
        else:
            direct[who] = direct.get(who, Decimal(0)) + cost
            rows[who] = rows.get(who, 0) + 1
    total = sum(costs, Decimal(0))
    needed = max([_scale(pool), *(_scale(v) for v in direct.values()), 0])
    if places is None:
        places = needed
    elif places < _scale(pool):
        raise ValueError(
            f"the shared pool {pool} has {_scale(pool)} decimal places; it cannot be spread"
            f" exactly at {places}"
        )
    spread: dict[str, Decimal] = {}
    shared = unallocated = Decimal(0)
    if spread_shared and pool:
        if any(v > 0 for v in direct.values()):
            spread = largest_remainder(pool, direct, places)
        else:
            unallocated = pool
    else:
        shared = pool
    allocated = {k: direct[k] + spread.get(k, Decimal(0)) for k in sorted(direct)}
    result = AllocationResult(
        cost_column=cost_column,
        currency=next(iter(currencies), ""),
        total=total,
        direct=dict(sorted(direct.items())),
        shared_spread=dict(sorted(spread.items())),
        allocated=allocated,
        shared=shared,
        unallocated=unallocated,
        rows=rows,
        places=places,
    )
    result.check()
    return result


# --------------------------------------------------------------------------- export

#: columns of the FOCUS-shaped export, in order
EXPORT_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "PricingCategory",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "ServiceName",
    "ServiceCategory",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
)


def charges_to_focus(
    lines: pa.Table,
    *,
    provider: str,
    billing_account_id: str = "",
    billing_account_name: str = "",
    customer_names: Mapping[int, str] | None = None,
    offering_names: Mapping[int, str] | None = None,
    service_category: str = "Other",
) -> pa.Table:
    """Turn rated charge lines (:data:`.rating.CHARGE_LINE_SCHEMA`) into FOCUS rows.

    One row per rated line (unrated lines carry no cost and are left out).  The customer is the
    sub-account (``SubAccountId`` = customer id); we are provider, publisher and invoice issuer.
    BilledCost = EffectiveCost = ContractedCost = the line amount; ListCost is the line amount too
    (the engine rates at the price in force -- the caller may overwrite it with list-price
    amounts).  Flat lines are ``Purchase``/``Recurring``, the others ``Usage``/``Usage-Based``.
    The charge period is the period clipped to the price row's validity.
    """
    customer_names = customer_names or {}
    offering_names = offering_names or {}
    rows = []
    for r in lines.filter(pc.equal(lines["status"], "rated")).to_pylist():
        start, end = period_bounds(r["period"])
        charge_start = max(start, r["valid_from"]) if r["valid_from"] else start
        charge_end = min(end, r["valid_to"]) if r["valid_to"] else end
        flat = r["charge_model"] == "flat"
        service = offering_names.get(r["offering_id"], f"Offering {r['offering_id']}")
        pricing_unit = r["unit"]
        if r["charge_model"] == "package":
            pricing_unit = f"{r['package_size'].normalize():f} {r['unit']}"
        elif flat:
            pricing_unit = f"{r['unit']}-period"
        rows.append(
            {
                "BilledCost": r["amount"],
                "EffectiveCost": r["amount"],
                "ListCost": r["amount"],
                "ContractedCost": r["amount"],
                "BillingAccountId": billing_account_id,
                "BillingAccountName": billing_account_name,
                "BillingCurrency": r["currency"],
                "BillingPeriodStart": start,
                "BillingPeriodEnd": end,
                "ChargePeriodStart": charge_start,
                "ChargePeriodEnd": charge_end,
                "ChargeCategory": "Purchase" if flat else "Usage",
                "ChargeClass": None,
                "ChargeDescription": f"{service} ({r['charge_model'].replace('_', ' ')})",
                "ChargeFrequency": "Recurring" if flat else "Usage-Based",
                "ConsumedQuantity": r["quantity"],
                "ConsumedUnit": r["unit"],
                "PricingQuantity": r["rated_quantity"],
                "PricingUnit": pricing_unit,
                "PricingCategory": "Standard" if r["price_scope"] == "list" else "Other",
                "ListUnitPrice": r["unit_price"],
                "ContractedUnitPrice": r["unit_price"],
                "ServiceName": service,
                "ServiceCategory": service_category,
                "SkuId": str(r["offering_id"]),
                "SkuPriceId": str(r["price_id"]),
                "SubAccountId": str(r["customer_id"]),
                "SubAccountName": customer_names.get(r["customer_id"], ""),
                "ProviderName": provider,
                "PublisherName": provider,
                "InvoiceIssuerName": provider,
            }
        )
    schema = pa.schema(
        [
            pa.field(
                c,
                FOCUS_DECIMAL
                if c in DECIMAL_COLUMNS
                else TS_TYPE
                if c in TIMESTAMP_COLUMNS
                else pa.string(),
            )
            for c in EXPORT_COLUMNS
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def export_charges(
    lines: pa.Table, directory: str | Path, *, name: str = "focus", **kwargs: Any
) -> dict[str, Path]:
    """Write :func:`charges_to_focus` rows as ``<name>.csv`` and ``<name>.parquet`` (atomically).

    CSV timestamps are written as ``YYYY-MM-DDTHH:MM:SSZ`` and decimals as plain text.
    """
    import pyarrow.csv as pacsv

    from servicebook.finance.usage_store import _atomic_write

    table = charges_to_focus(lines, **kwargs)
    directory = Path(directory)
    csv_cols = {
        c: (
            pc.strftime(table[c], format="%Y-%m-%dT%H:%M:%SZ")
            if c in TIMESTAMP_COLUMNS
            else table[c]
        )
        for c in table.column_names
    }
    csv_table = pa.table(csv_cols)
    paths = {"csv": directory / f"{name}.csv", "parquet": directory / f"{name}.parquet"}
    _atomic_write(paths["csv"], lambda tmp: pacsv.write_csv(csv_table, tmp))
    _atomic_write(paths["parquet"], lambda tmp: pq.write_table(table, tmp))
    return paths


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


# --------------------------------------------------------------------------- import into the store

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


def read_focus_rows(source: str | Path | pa.Table) -> tuple[pa.Table, pa.Table, list[list[str]]]:
    """Read a FOCUS file row by row: a bad value rejects its row, never the file.

    Returns ``(table, raw_text, problems)``: the table as :func:`read_focus` would give it, with
    unreadable cells left null; the raw values as text (for the rejects file); and per row the
    list of problems (empty: the row is readable).  Only a missing required *column* is a
    file-level error (:class:`FocusFormatError`).
    """
    table = source if isinstance(source, pa.Table) else read_raw(source)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise FocusFormatError(f"not a FOCUS file: missing column(s) {', '.join(missing)}")
    n = table.num_rows
    problems: list[list[str]] = [[] for _ in range(n)]

    def flag(mask: pa.Array, message: str, text: pa.Array) -> None:
        for i in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            problems[i].append(message.format(v=repr(text[i].as_py())))

    raw_text = {}
    columns = {}
    for name in table.column_names:
        text = as_text(table[name])
        raw_text[name] = text
        if name in DECIMAL_COLUMNS:
            if pa.types.is_decimal(table[name].type) and table[name].type.scale <= 15:
                columns[name] = pc.cast(table[name], FOCUS_DECIMAL)
                continue
            values, bad, too_precise = parse_decimals(text, FOCUS_DECIMAL)
            flag(bad, f"{name}: {{v}} is not a number", text)
            flag(too_precise, f"{name}: {{v}} has more than 15 decimal places", text)
            columns[name] = values
        elif name in TIMESTAMP_COLUMNS:
            values, bad = parse_utc_timestamps(text)
            flag(bad, f"{name}: {{v}} is not a timestamp", text)
            columns[name] = values
        elif name in ENUMS:
            spelling = {v.lower(): v for v in ENUMS[name]}
            keys = pa.array(list(spelling), pa.string())
            idx = pc.index_in(pc.utf8_lower(text), value_set=keys)
            canonical = pc.take(pa.array(list(spelling.values()), pa.string()), idx)
            columns[name] = pc.if_else(pc.is_null(idx), text, canonical)
        else:
            columns[name] = text
    for name in ("BilledCost", "BillingCurrency", "ChargePeriodStart"):
        flag(pc.is_null(raw_text[name]), f"{name}: missing", raw_text[name])
    return pa.table(columns), pa.table(raw_text), problems


def exact_text(value: Decimal) -> str:
    """An exact decimal as plain text without trailing zeros (``20.52022672899``, ``0``)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def bill_currency(path: str | Path) -> str | None:
    """The most common ``BillingCurrency`` of a FOCUS file (reads that one column)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        column = pq.read_table(path, columns=["BillingCurrency"])["BillingCurrency"]
    else:
        import pyarrow.csv as pacsv

        try:
            column = pacsv.read_csv(
                path,
                # a row with the wrong number of fields is rejected by the import, not here
                parse_options=pacsv.ParseOptions(
                    newlines_in_values=True, invalid_row_handler=lambda row: "skip"
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=["BillingCurrency"],
                    column_types={"BillingCurrency": pa.string()},
                    null_values=["", "NULL"],
                    strings_can_be_null=True,
                ),
            )["BillingCurrency"]
        except pa.ArrowInvalid:
            # text that is not UTF-8 or a row longer than Arrow's block: read it row by row
            # (such rows are rejected by the import, not here)
            from servicebook.finance.usage_store import CsvProblems

            try:
                table = read_raw(path, CsvProblems())
            except ValueError as exc:
                raise FocusFormatError(f"not a FOCUS file: {exc}") from exc
            if "BillingCurrency" not in table.column_names:
                raise FocusFormatError("not a FOCUS file: no BillingCurrency column") from None
            column = table["BillingCurrency"]
        except KeyError as exc:
            raise FocusFormatError(f"not a FOCUS file: {exc}") from exc
    counted: dict[str, int] = {}
    for value in as_text(column).to_pylist():
        if value:
            counted[value.upper()] = counted.get(value.upper(), 0) + 1
    return max(sorted(counted), key=lambda c: counted[c]) if counted else None


def _record_ids(raw: pa.Table) -> list[str]:
    """A record id per row: the export's ``Id`` column when it has one, else a content hash."""
    import hashlib

    if "Id" in raw.column_names and raw["Id"].null_count == 0:
        return [str(v) for v in raw["Id"].to_pylist()]
    names = sorted(raw.column_names)
    rows = zip(*(raw[c].to_pylist() for c in names), strict=True)
    return [
        "sha1:"
        + hashlib.sha1("\x1f".join("" if v is None else v for v in row).encode()).hexdigest()
        for row in rows
    ]


def _report(result: AllocationResult) -> dict[str, Any]:
    """An :class:`AllocationResult` as JSON-able exact decimal strings."""

    def text(d: Decimal) -> str:
        return exact_text(d)

    return {
        "cost_column": result.cost_column,
        "currency": result.currency,
        "total": text(result.total),
        "direct": {k: text(v) for k, v in result.direct.items()},
        "spread": {k: text(v) for k, v in result.shared_spread.items()},
        "allocated": {k: text(v) for k, v in result.allocated.items()},
        "allocated_total": text(sum(result.allocated.values(), Decimal(0))),
        "shared": text(result.shared),
        "unallocated": text(result.unallocated),
        "rows": dict(result.rows),
    }


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
    """Import a FOCUS bill into ``store`` (a :class:`~.usage_store.UsageStore`), allocated.

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
    import datetime as dt

    import pyarrow.csv as pacsv

    from servicebook.finance.usage_store import (
        CsvProblems,
        ImportSummary,
        _atomic_write,
        add_malformed,
        file_hash,
    )

    digest = file_hash(path)
    root = Path(store.root)
    with store._locked():
        entries = store.manifest()
        previous = store.find_import(digest, entries)
        if previous is not None:
            return previous
        unreadable = CsvProblems()  # rows with the wrong number of fields: rejected, not the file
        table, raw, problems = read_focus_rows(read_raw(path, unreadable))
        n = table.num_rows
        numbers = unreadable.row_numbers or range(1, n + 1)  # the file's data row of each row
        currencies = [c.upper() if c else None for c in table["BillingCurrency"].to_pylist()]
        if billing_currency is None:
            counted: dict[str, int] = {}
            for c in currencies:
                if c:
                    counted[c] = counted.get(c, 0) + 1
            billing_currency = max(sorted(counted), key=lambda c: counted[c]) if counted else ""
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
                    f"BillingCurrency: {currencies[i]!r} is not the bill's currency"
                    f" {billing_currency}"
                )
            if months[i] is not None and period is not None and months[i] != period:
                problems[i].append(f"charge period {months[i]} is outside period {period}")
            elif months[i] in closed_periods:
                problems[i].append(f"period {months[i]} is closed: it only takes adjustments")
            if ids[i] in first_row:
                problems[i].append(f"Id: duplicate {ids[i]!r} (first at row {first_row[ids[i]]})")
            else:
                first_row[ids[i]] = numbers[i]
        ok = [not p for p in problems]
        # skip records the store already holds for their month
        skipped = 0
        seen: dict[str, set[str]] = {}
        for i in range(n):
            if not ok[i]:
                continue
            month = months[i]
            if month not in seen:
                held: set[str] = set()
                for f in sorted((root / "focus" / f"period={month}").glob("part-*.parquet")):
                    held.update(pq.read_table(f, columns=["record_id"])["record_id"].to_pylist())
                seen[month] = held
            if ids[i] in seen[month]:
                ok[i] = False
                skipped += 1
        mask = pa.array(ok, pa.bool_())
        accepted = table.filter(mask)
        acc_months = [m for m, k in zip(months, ok, strict=True) if k]
        acc_ids = [r for r, k in zip(ids, ok, strict=True) if k]
        acc_rows = [numbers[i] for i, k in enumerate(ok) if k]
        owner = owners(accepted, rules)
        columns = {}
        for field_ in FOCUS_STORE_SCHEMA:
            if field_.name in accepted.column_names:
                columns[field_.name] = pc.cast(accepted[field_.name], field_.type)
            else:
                columns[field_.name] = pa.nulls(accepted.num_rows, field_.type)
        columns["record_id"] = pa.array(acc_ids, pa.string())
        columns["row_number"] = pa.array(acc_rows, pa.int64())
        columns["customer"] = pa.array(owner, pa.string())
        columns["period"] = pa.array(acc_months, pa.string())
        columns["import_hash"] = pa.array([digest] * accepted.num_rows, pa.string())
        stored = pa.table(columns, schema=FOCUS_STORE_SCHEMA)
        allocation: dict[str, Any] = {}
        part_name = f"part-{digest[:24]}.parquet"
        for month in sorted(set(acc_months)):
            rows = stored.filter(pc.equal(stored["period"], month))
            dest = root / "focus" / f"period={month}" / part_name
            _atomic_write(dest, lambda tmp, t=rows: pq.write_table(t, tmp))
            month_rows = accepted.filter(pa.array([m == month for m in acc_months], pa.bool_()))
            allocation[month] = {
                col: _report(
                    allocate(month_rows, rules, cost_column=col, spread_shared=spread_shared)
                )
                for col in ("BilledCost", "EffectiveCost")
                if col in month_rows.column_names
            }
        rejected_idx = [i for i in range(n) if problems[i]]
        rejects_path = None
        if rejected_idx or unreadable.malformed:
            take = pa.array(rejected_idx, pa.int64())
            rejects = {name: pc.take(raw[name], take) for name in raw.column_names}
            rejects["row_number"] = pa.array([numbers[i] for i in rejected_idx], pa.int64())
            rejects["reason"] = pa.array(
                [f"row {numbers[i]}: " + "; ".join(problems[i]) for i in rejected_idx], pa.string()
            )
            ordered = add_malformed(pa.table(rejects), unreadable.malformed)
            dest = root / "_rejects" / f"{digest[:24]}.csv"
            _atomic_write(dest, lambda tmp: pacsv.write_csv(ordered, tmp))
            rejects_path = str(dest)
        totals = focus_totals(stored) if stored.num_rows else {}
        summary = ImportSummary(
            file_hash=digest,
            source=source,
            periods=sorted(set(acc_months)),
            rows_read=n + len(unreadable.malformed),
            rows_imported=stored.num_rows,
            rows_skipped_duplicate=skipped,
            rows_rejected=len(rejected_idx) + len(unreadable.malformed),
            quantity_totals={},
            cost_totals={k: exact_text(v) for k, v in totals.get("BilledCost", {}).items()},
            rejects_path=rejects_path,
            imported_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            format="focus",
            extra={
                "billing_currency": billing_currency,
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


def read_stored(root: str | Path, period: str | None = None) -> pa.Table:
    """The FOCUS rows the store holds (one month, or all), :data:`FOCUS_STORE_SCHEMA`."""
    base = Path(root) / "focus"
    pattern = f"period={period}/*.parquet" if period else "period=*/*.parquet"
    files = sorted(base.glob(pattern))
    if not files:
        return FOCUS_STORE_SCHEMA.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=FOCUS_STORE_SCHEMA) for f in files)


# --------------------------------------------------------------------------- export of documents


def _export_schema() -> pa.Schema:
    return pa.schema(
        [
            pa.field(
                c,
                FOCUS_DECIMAL
                if c in DECIMAL_COLUMNS
                else TS_TYPE
                if c in TIMESTAMP_COLUMNS
                else pa.string(),
            )
            for c in EXPORT_COLUMNS
        ]
    )


#: FOCUS charge category and frequency of each kind of statement or invoice line
LINE_CATEGORIES = {
    "subscription": ("Purchase", "Recurring"),
    "usage": ("Usage", "Usage-Based"),
    "focus": ("Usage", "Usage-Based"),
    "credit": ("Credit", "One-Time"),
}


def documents_to_focus(rows: Sequence[Mapping[str, Any]], *, provider: str) -> pa.Table:
    """Charge lines of statements and invoices as FOCUS rows (what the customer is charged).

    Each row gives ``customer_code``, ``customer_name``, ``period``, ``currency``, ``kind``
    (subscription, usage, focus or credit), ``description``, ``service``, ``offering``, ``unit``,
    ``quantity``, ``unit_price`` and ``amount``.  BilledCost, EffectiveCost, ListCost and
    ContractedCost are all the charged amount -- the customer's cost, i.e. our price: the
    provider's own cost is never part of this export.  The customer is the billing account and the
    sub-account; we are provider, publisher and invoice issuer.
    """
    out = []
    for r in rows:
        start, end = period_bounds(r["period"])
        category, frequency = LINE_CATEGORIES.get(r["kind"], ("Adjustment", "One-Time"))
        amount = Decimal(r["amount"])
        out.append(
            {
                "BilledCost": amount,
                "EffectiveCost": amount,
                "ListCost": amount,
                "ContractedCost": amount,
                "BillingAccountId": r["customer_code"],
                "BillingAccountName": r["customer_name"],
                "BillingCurrency": r["currency"],
                "BillingPeriodStart": start,
                "BillingPeriodEnd": end,
                "ChargePeriodStart": start,
                "ChargePeriodEnd": end,
                "ChargeCategory": category,
                "ChargeClass": None,
                "ChargeDescription": r["description"],
                "ChargeFrequency": frequency,
                "ConsumedQuantity": r["quantity"],
                "ConsumedUnit": r.get("unit") or None,
                "PricingQuantity": r["quantity"],
                "PricingUnit": r.get("unit") or None,
                "PricingCategory": "Standard",
                "ListUnitPrice": r["unit_price"],
                "ContractedUnitPrice": r["unit_price"],
                "ServiceName": r.get("service") or "",
                "ServiceCategory": "Other",
                "SkuId": r.get("offering") or None,
                "SkuPriceId": None,
                "SubAccountId": r["customer_code"],
                "SubAccountName": r["customer_name"],
                "ProviderName": provider,
                "PublisherName": provider,
                "InvoiceIssuerName": provider,
            }
        )
    return pa.Table.from_pylist(out, schema=_export_schema())


def focus_bytes(table: pa.Table, fmt: str) -> bytes:
    """A FOCUS table as a CSV (timestamps ``YYYY-MM-DDTHH:MM:SSZ``) or Parquet file's bytes."""
    import io

    import pyarrow.csv as pacsv

    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink)
    elif fmt == "csv":
        cols = {
            c: (
                pc.strftime(table[c], format="%Y-%m-%dT%H:%M:%SZ")
                if c in TIMESTAMP_COLUMNS
                else table[c]
            )
            for c in table.column_names
        }
        pacsv.write_csv(pa.table(cols), sink)
    else:
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    return sink.getvalue()
