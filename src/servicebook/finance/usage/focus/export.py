"""FOCUS-shaped datasets of our own charges: rated charge lines, and the charge lines of
statements and invoices (what the customer is charged, never the provider's cost)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from servicebook.core.periods import period_bounds
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
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
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
        ]
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
    amounts).  Flat lines are ``Purchase``/``Recurring``, the others ``Usage``/``Usage-Based``.
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
    return pa.Table.from_pylist(rows, schema=_export_schema())


def _charge_row(r: Mapping[str, Any], customer_names, offering_names) -> dict[str, Any]:
    """The FOCUS columns of one rated line that depend on the line."""
    start, end = period_bounds(r["period"])
    flat = r["charge_model"] == "flat"
    service = offering_names.get(r["offering_id"], f"Offering {r['offering_id']}")
    pricing_unit = r["unit"]
    if r["charge_model"] == "package":
        pricing_unit = f"{r['package_size'].normalize():f} {r['unit']}"
    elif flat:
        pricing_unit = f"{r['unit']}-period"
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
        "SkuId": str(r["offering_id"]),
        "SkuPriceId": str(r["price_id"]),
        "SubAccountId": str(r["customer_id"]),
        "SubAccountName": customer_names.get(r["customer_id"], ""),
    }


def export_charges(
    lines: pa.Table, directory: str | Path, *, name: str = "focus", **kwargs: Any
) -> dict[str, Path]:
    """Write :func:`charges_to_focus` rows as ``<name>.csv`` and ``<name>.parquet`` (atomically).

    CSV timestamps are written as ``YYYY-MM-DDTHH:MM:SSZ`` and decimals as plain text.
    """
    table = charges_to_focus(lines, **kwargs)
    directory = Path(directory)
    paths = {"csv": directory / f"{name}.csv", "parquet": directory / f"{name}.parquet"}
    atomic_write(paths["csv"], lambda tmp: pacsv.write_csv(_csv_table(table), tmp))
    atomic_write(paths["parquet"], lambda tmp: pq.write_table(table, tmp))
    return paths


def _csv_table(table: pa.Table) -> pa.Table:
    """``table`` with its timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` text, for a CSV file."""
    return pa.table(
        {
            c: (
                pc.strftime(table[c], format="%Y-%m-%dT%H:%M:%SZ")
                if c in TIMESTAMP_COLUMNS
                else table[c]
            )
            for c in table.column_names
        }
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
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink)
    elif fmt == "csv":
        pacsv.write_csv(_csv_table(table), sink)
    else:
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    return sink.getvalue()
