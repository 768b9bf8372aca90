"""FOCUS 1.2 datasets of our own charges: rated charge lines, and the charge lines of
statements and invoices (what the customer is charged, never the provider's cost).

The columns and values follow FOCUS 1.2 (:data:`.conform.FOCUS_VERSION`, written into every
Parquet file's schema metadata as ``FocusVersion``): units in FOCUS's unit format, ASCII text,
timestamps to the second (``2026-10-01T00:00:00Z`` in CSV), unit price × quantity = cost.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from servicebook.core.money import allocate_amount, quantum
from servicebook.core.periods import period_bounds
from servicebook.finance.usage.focus.conform import (
    FOCUS_VERSION,
    ascii_text,
    focus_unit,
    package_unit,
)
from servicebook.finance.usage.focus.reading import (
    DECIMAL_COLUMNS,
    FOCUS_DECIMAL,
    TIMESTAMP_COLUMNS,
)
from servicebook.finance.usage.reading import TS_TYPE
from servicebook.finance.usage.store import atomic_write

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
    "ServiceSubcategory",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "InvoiceId",
)

#: the text columns, written in ASCII (FOCUS's StringHandling)
STRING_COLUMNS = tuple(
    c for c in EXPORT_COLUMNS if c not in DECIMAL_COLUMNS and c not in TIMESTAMP_COLUMNS
)


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
        ],
        metadata={"FocusVersion": FOCUS_VERSION, "DataGenerator": "Servicebook"},
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
    """Turn rated charge lines (:data:`..rating.CHARGE_LINE_SCHEMA`) into FOCUS rows.

    One row per rated line (unrated lines carry no cost and are left out).  The customer is the
    sub-account (``SubAccountId`` = customer id); we are provider, publisher and invoice issuer.
    BilledCost = EffectiveCost = ContractedCost = the line amount; ListCost is the line amount too
    (the engine rates at the price in force -- the caller may overwrite it with list-price
    amounts).  Flat lines are ``Usage``/``Recurring`` (the month's service, not a commitment
    bought for later charges), the others ``Usage``/``Usage-Based``.
    The charge period is the period clipped to the price row's validity.
    """
    customer_names = customer_names or {}
    offering_names = offering_names or {}
    issuer = {
        "BillingAccountId": billing_account_id,
        "BillingAccountName": billing_account_name,
        "ServiceCategory": service_category,
        "ProviderName": provider,
        "PublisherName": provider,
        "InvoiceIssuerName": provider,
    }
    rows = [
        {**_charge_row(r, customer_names, offering_names), **issuer}
        for r in lines.filter(pc.equal(lines["status"], "rated")).to_pylist()
    ]
    for row in rows:
        for column in STRING_COLUMNS:
            row[column] = ascii_text(row.get(column))
    return pa.Table.from_pylist(rows, schema=_export_schema())


def _charge_row(r: Mapping[str, Any], customer_names, offering_names) -> dict[str, Any]:
    """The FOCUS columns of one rated line that depend on the line."""
    start, end = period_bounds(r["period"])
    flat = r["charge_model"] == "flat"
    service = offering_names.get(r["offering_id"], f"Offering {r['offering_id']}")
    pricing_unit = focus_unit(r["unit"])
    if r["charge_model"] == "package":
        pricing_unit = package_unit(r["unit"], r["package_size"])
    elif flat:
        pricing_unit = "Month"
    return {
        "BilledCost": r["amount"],
        "EffectiveCost": r["amount"],
        "ListCost": r["amount"],
        "ContractedCost": r["amount"],
        "BillingCurrency": r["currency"],
        "BillingPeriodStart": start,
        "BillingPeriodEnd": end,
        "ChargePeriodStart": max(start, r["valid_from"]) if r["valid_from"] else start,
        "ChargePeriodEnd": min(end, r["valid_to"]) if r["valid_to"] else end,
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": f"{service} ({r['charge_model'].replace('_', ' ')})",
        "ChargeFrequency": "Recurring" if flat else "Usage-Based",
        "ConsumedQuantity": r["quantity"],
        "ConsumedUnit": focus_unit(r["unit"]),
        "PricingQuantity": r["rated_quantity"],
        "PricingUnit": pricing_unit,
        "PricingCategory": "Standard" if r["price_scope"] == "list" else "Other",
        "ListUnitPrice": r["unit_price"],
        "ContractedUnitPrice": r["unit_price"],
        "ServiceName": service,
        "ServiceSubcategory": "Other (Other)",
        "SkuId": str(r["offering_id"]),
        "SkuPriceId": str(r["price_id"]),
        "SubAccountId": str(r["customer_id"]),
        "SubAccountName": customer_names.get(r["customer_id"], ""),
    }


def export_charges(
    lines: pa.Table, directory: str | Path, *, name: str = "focus", **kwargs: Any
) -> dict[str, Path]:
    """Write :func:`charges_to_focus` rows as ``<name>.csv`` and ``<name>.parquet`` (atomically).

    CSV timestamps are written as ``YYYY-MM-DDTHH:MM:SSZ`` (no fraction of a second) and
    decimals as plain text.
    """
    table = charges_to_focus(lines, **kwargs)
    directory = Path(directory)
    paths = {"csv": directory / f"{name}.csv", "parquet": directory / f"{name}.parquet"}
    atomic_write(paths["csv"], lambda tmp: Path(tmp).write_bytes(_csv_bytes(table)))
    atomic_write(paths["parquet"], lambda tmp: pq.write_table(_parquet_table(table), tmp))
    return paths


def _csv_table(table: pa.Table) -> pa.Table:
    """``table`` with its timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` text, for a CSV file (Arrow's
    ``%S`` writes the fraction of a microsecond timestamp: cast to seconds first)."""
    return pa.table(
        {
            c: (
                pc.strftime(
                    table[c].cast(pa.timestamp("s", tz="UTC"), safe=False),
                    format="%Y-%m-%dT%H:%M:%SZ",
                )
                if c in TIMESTAMP_COLUMNS
                else table[c]
            )
            for c in table.column_names
        }
    )


#: Arrow writes a decimal zero as ``0E-15``; FOCUS's NumericFormat allows no exponent
_EXPONENT_ZERO = re.compile(rb"(?<![^,\n])-?0E-(\d+)(?=[,\r\n]|$)", re.MULTILINE)


def _csv_bytes(table: pa.Table) -> bytes:
    """``table`` as CSV: timestamps ``YYYY-MM-DDTHH:MM:SSZ``, decimals in plain notation
    (strings are quoted, so an unquoted ``0E-15`` can only be a decimal zero)."""
    sink = io.BytesIO()
    pacsv.write_csv(_csv_table(table), sink)
    return _EXPONENT_ZERO.sub(lambda m: b"0." + b"0" * int(m.group(1)), sink.getvalue())


def _parquet_table(table: pa.Table) -> pa.Table:
    """``table`` for a Parquet file: timestamps to the millisecond (Parquet has no seconds unit),
    the schema metadata (``FocusVersion``) kept."""
    schema = pa.schema(
        [
            pa.field(f.name, pa.timestamp("ms", tz="UTC")) if f.name in TIMESTAMP_COLUMNS else f
            for f in table.schema
        ],
        metadata=table.schema.metadata,
    )
    return table.cast(schema, safe=False)


#: FOCUS charge category and frequency of each kind of statement or invoice line.  A monthly
#: contracted line is the month's service, consumed in the month it is charged for: ``Usage``
#: recurring every month, not a ``Purchase`` (FOCUS keeps that for commitments bought to cover
#: future charges, whose EffectiveCost is 0 and spread over later usage rows).
LINE_CATEGORIES = {
    "subscription": ("Usage", "Recurring"),
    "usage": ("Usage", "Usage-Based"),
    "focus": ("Usage", "Usage-Based"),
    "credit": ("Credit", "One-Time"),
}

#: unit prices derived from an amount and a quantity keep this many places, so that unit price
#: × quantity (6 places) fits the export's 15 decimal places exactly
DERIVED_PRICE = Decimal("0.000000001")


def derived_unit_price(amount: Decimal, quantity: Decimal) -> Decimal:
    """The unit price of a line that states only an amount and a quantity."""
    if not quantity:
        return Decimal(amount)
    return (Decimal(amount) / Decimal(quantity)).quantize(DERIVED_PRICE)


def documents_to_focus(rows: Sequence[Mapping[str, Any]], *, provider: str) -> pa.Table:
    """Charge lines of statements and invoices as FOCUS 1.2 rows (what the customer is charged).

    Each row gives ``customer_code``, ``customer_name``, ``period``, ``currency``, ``kind``
    (subscription, usage, focus or credit), ``description``, ``service``, ``offering``, ``unit``,
    ``quantity``, ``unit_price`` and ``amount``; an invoice line also ``invoice`` (its number,
    the ``InvoiceId``) and, for a tiered, volume, package or flat charge, ``steps`` (the line's
    breakdown) with ``charge_model`` and ``package_size``.  A stepped line gives one row per step
    (a price tier), so that ListUnitPrice × PricingQuantity = ListCost on every row, exactly;
    the line's amount is split over its steps to the cent (BilledCost adds up to the document).
    BilledCost = EffectiveCost is the charged amount; ListCost = ContractedCost is unit price ×
    quantity before rounding to the cent.  All of it is the customer's cost, i.e. our price: the
    provider's own cost is never part of this export.  A service credit has no quantity, unit or
    unit price (FOCUS: a credit is no consumption).  Text is ASCII, units are FOCUS units.  The
    customer is the billing account and the sub-account; we are provider, publisher and invoice
    issuer.
    """
    out: list[dict[str, Any]] = []
    for r in rows:
        start, end = period_bounds(r["period"])
        common = {
            "BillingAccountId": r["customer_code"],
            "BillingAccountName": r["customer_name"],
            "BillingCurrency": r["currency"],
            "BillingPeriodStart": start,
            "BillingPeriodEnd": end,
            "ChargePeriodStart": start,
            "ChargePeriodEnd": end,
            "ChargeClass": None,
            "ChargeDescription": r["description"],
            "ServiceName": r.get("service") or "",
            "ServiceCategory": "Other",
            "ServiceSubcategory": "Other (Other)",
            "SubAccountId": r["customer_code"],
            "SubAccountName": r["customer_name"],
            "ProviderName": provider,
            "PublisherName": provider,
            "InvoiceIssuerName": provider,
            "InvoiceId": r.get("invoice") or None,
        }
        out.extend({**common, **charge} for charge in _document_charges(r))
    for row in out:
        for column in STRING_COLUMNS:
            row[column] = ascii_text(row.get(column))
    return pa.Table.from_pylist(out, schema=_export_schema())


def _document_charges(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The line-dependent FOCUS columns of one document line: one dict per FOCUS row."""
    amount = Decimal(r["amount"])
    category, frequency = LINE_CATEGORIES.get(r["kind"], ("Adjustment", "One-Time"))
    if category != "Usage":  # a credit or an adjustment: money only, no consumption
        return [
            {
                **dict.fromkeys(
                    ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"), amount
                ),
                "ChargeCategory": category,
                "ChargeFrequency": frequency,
                "SkuId": r.get("offering") or None,
                "SkuPriceId": r.get("offering") or None,
            }
        ]
    quantity = Decimal(r["quantity"])
    model = r.get("charge_model") or ""
    steps = [
        (Decimal(s["quantity"]), Decimal(s["unit_price"]), Decimal(s["amount"]))
        for s in (r.get("steps") or [])
    ] or [(quantity, Decimal(r["unit_price"]), quantity * Decimal(r["unit_price"]))]
    billed = _split(amount, [s[2] for s in steps], r["currency"])
    unit = focus_unit(r.get("unit")) or "Units"
    if model == "package" and r.get("package_size"):
        pricing_unit = package_unit(r.get("unit"), r["package_size"])
    elif model == "flat":
        pricing_unit = "Month"
    else:
        pricing_unit = unit
    charges = []
    for (qty, price, _), part in zip(steps, billed, strict=True):
        whole_line = model in ("package", "flat")
        charges.append(
            {
                "BilledCost": part,
                "EffectiveCost": part,
                "ListCost": qty * price,
                "ContractedCost": qty * price,
                "ChargeCategory": category,
                "ChargeFrequency": frequency,
                "ConsumedQuantity": quantity if whole_line else qty,
                "ConsumedUnit": unit,
                "PricingQuantity": qty,
                "PricingUnit": pricing_unit,
                "PricingCategory": "Standard",
                "ListUnitPrice": price,
                "ContractedUnitPrice": price,
                "SkuId": r.get("offering") or None,
                "SkuPriceId": r.get("offering") or None,
            }
        )
    return charges


def _split(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """``amount`` split over the steps of a line in proportion to their amounts, to the cent."""
    if len(weights) == 1:
        return [amount]
    try:
        unit = quantum(currency)
        return allocate_amount(amount, [max(w, Decimal(0)) for w in weights], unit)
    except (KeyError, ValueError):
        return [amount] + [Decimal(0)] * (len(weights) - 1)


def focus_bytes(table: pa.Table, fmt: str) -> bytes:
    """A FOCUS table as a CSV (timestamps ``YYYY-MM-DDTHH:MM:SSZ``) or Parquet file's bytes
    (``FocusVersion`` in its schema metadata)."""
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(_parquet_table(table), sink)
    elif fmt == "csv":
        sink.write(_csv_bytes(table))
    else:
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    return sink.getvalue()
