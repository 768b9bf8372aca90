"""Reads of usage: the cloud allocation rules as the FOCUS kernel takes them, the catalogue the
usage store validates against, an import's summary, allocation report and rejects."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from servicebook.catalog.models import Offering
from servicebook.core.spreadsheets import safe_row
from servicebook.finance.usage.focus import AllocationRules
from servicebook.finance.usage.models import AllocationKey, CloudCharge, CloudMapping
from servicebook.finance.usage.records import Offering as StoreOffering
from servicebook.parties.models import Customer
from servicebook.policy import policy_for


def cloud_rules():
    """The allocation rules of the database as :class:`focus.AllocationRules` (key: customer pk)."""
    resources: dict[str, str | None] = {}
    tags: dict[str, dict[str, str | None]] = {}
    sub_accounts: dict[str, str | None] = {}
    for m in CloudMapping.objects.order_by("tag_key", "value"):
        target = str(m.customer_id) if m.customer_id else None
        if m.key == AllocationKey.RESOURCE:
            resources[m.value] = target
        elif m.key == AllocationKey.TAG:
            tags.setdefault(m.tag_key, {})[m.value] = target
        else:
            sub_accounts[m.value] = target
    return AllocationRules(resources=resources, tags=tags, sub_accounts=sub_accounts)


def store_keys() -> tuple[dict, dict, dict]:
    """Customers (code or id → pk), their billing currency, offerings (code/id → (pk, unit))."""
    customers: dict[str, int] = {}
    currencies: dict[str, str] = {}
    for customer in Customer.objects.select_related("provider"):
        currency = policy_for(customer).billing_currency(customer)
        for key in (str(customer.pk), customer.code):
            customers[key] = customer.pk
            currencies[key] = currency
    offerings: dict[str, StoreOffering] = {}
    for pk, code, unit in Offering.objects.values_list("pk", "code", "unit"):
        offerings[str(pk)] = offerings[code] = StoreOffering(pk, unit)
    return customers, currencies, offerings


def import_summary(record, *, already: bool) -> dict:
    data = {
        "id": record.pk,
        "format": record.format,
        "file": record.filename,
        "file_hash": record.file_hash,
        "already_imported": already,
        "periods": record.periods,
        "rows_read": record.rows_read,
        "rows_imported": 0 if already else record.rows_imported,
        "rows_skipped_duplicate": record.rows_read - record.rows_rejected
        if already
        else record.rows_skipped_duplicate,
        "rows_rejected": record.rows_rejected,
        "totals": record.cost_totals,
        "quantity_totals": record.quantity_totals,
        "rejects": record.rejects_path or None,
    }
    if record.format == "focus":
        data["cost_basis"] = record.cost_basis
        data["shared_mode"] = record.shared_mode
        data["effective_totals"] = record.report.get("effective_totals", {})
        data["allocation"] = allocation_totals(record)
    return data


def allocation_totals(record) -> dict:
    """Per month, the allocated, shared and unallocated parts of the charged cost column."""
    out = {}
    for month, columns in sorted(record.report.get("allocation", {}).items()):
        report = columns.get(record.cost_basis, {})
        out[month] = {
            "total": report.get("total", "0"),
            "allocated": report.get("allocated_total", "0"),
            "shared": report.get("shared", "0"),
            "unallocated": report.get("unallocated", "0"),
        }
    return out


def allocation_report(record) -> list[dict]:
    """Per month of a FOCUS import: the charged column's allocation to customers, exact.

    Each month gives the rows per customer (rows, direct, spread, allocated, statement amount),
    the shared and unallocated pools and the file total, which the parts add up to exactly.
    """
    charges = {
        (c.period, c.customer_id): c for c in CloudCharge.objects.filter(usage_import=record)
    }
    keys = {
        int(k)
        for columns in record.report.get("allocation", {}).values()
        for k in columns.get(record.cost_basis, {}).get("allocated", {})
    }
    customers = Customer.objects.in_bulk(keys)
    months = []
    for month, columns in sorted(record.report.get("allocation", {}).items()):
        report = columns.get(record.cost_basis, {})
        rows = []
        for key, allocated in report.get("allocated", {}).items():
            charge = charges.get((month, int(key)))
            rows.append(
                {
                    "customer": customers.get(int(key)),
                    "rows": report.get("rows", {}).get(key, 0),
                    "direct": report.get("direct", {}).get(key, "0"),
                    "spread": report.get("spread", {}).get(key, "0"),
                    "allocated": allocated,
                    "amount": charge.amount if charge else None,
                    "currency": charge.currency if charge else "",
                }
            )
        total = Decimal(report.get("total", "0"))
        parts = (
            Decimal(report.get("allocated_total", "0"))
            + Decimal(report.get("shared", "0"))
            + Decimal(report.get("unallocated", "0"))
        )
        other = next((c for c in ("BilledCost", "EffectiveCost") if c != record.cost_basis), "")
        months.append(
            {
                "period": month,
                "cost_column": record.cost_basis,
                "currency": report.get("currency", record.billing_currency),
                "rows": sorted(rows, key=lambda r: r["customer"].name if r["customer"] else ""),
                "pool_rows": report.get("rows", {}).get("", 0),
                "allocated": report.get("allocated_total", "0"),
                "shared": report.get("shared", "0"),
                "unallocated": report.get("unallocated", "0"),
                "total": report.get("total", "0"),
                "adds_up": parts == total,
                "other_column": other,
                "other_total": columns.get(other, {}).get("total"),
            }
        )
    return months


def rejects_content(record) -> bytes | None:
    """The rejects file of an import (rows with their reasons), or None when there is none;
    text a spreadsheet would run as a formula is written as text (``core.spreadsheets``)."""
    if not record.rejects_path:
        return None
    path = Path(record.rejects_path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow(safe_row(row))
    return out.getvalue().encode("utf-8")
