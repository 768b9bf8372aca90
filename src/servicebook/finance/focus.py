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
