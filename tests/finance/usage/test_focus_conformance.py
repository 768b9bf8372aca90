"""Every demo customer's FOCUS export keeps the mandatory rules of FOCUS 1.2 (the FinOps
Foundation's rule model, vendored: tests/data/focus-1.2/), in CSV and Parquet; decision 0024."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from servicebook.finance.billing import selectors
from servicebook.finance.billing.models import Invoice, InvoiceLine, Statement
from servicebook.finance.usage.focus import (
    FOCUS_VERSION,
    ascii_text,
    documents_to_focus,
    focus_bytes,
    focus_unit,
)
from servicebook.parties.models import Customer
from tests.finance.usage import focus_rules

pytestmark = pytest.mark.django_db
FORMATS = ("csv", "parquet")


def demo_exports():
    """(customer, period, rows) of every demo customer and month with charges."""
    periods = sorted(
        set(Statement.objects.values_list("period", flat=True))
        | set(Invoice.objects.values_list("period", flat=True))
    )
    for customer in Customer.objects.order_by("code"):
        for period in periods:
            rows = selectors.customer_charge_rows(customer, period)
            if rows:
                yield customer, period, rows


def test_the_vendored_model_is_focus_1_2_with_its_licence():
    assert focus_rules.model()["Details"]["FOCUSVersion"] == FOCUS_VERSION == "1.2"
    assert "MIT License" in (focus_rules.RULES.parent / "LICENSE").read_text()
    # a real share of the model is checked, not a handful of rules
    data = focus_rules.read(selectors.focus_file([], "csv"), "csv")
    assert len(focus_rules.applicable(data)) > 120


def test_every_demo_export_keeps_the_mandatory_rules():
    checked = 0
    for customer, period, rows in demo_exports():
        for fmt in FORMATS:
            data = focus_rules.read(selectors.focus_file(rows, fmt), fmt)
            assert data.rows, (customer.code, period, fmt)
            assert focus_rules.violations(data) == {}, (customer.code, period, fmt)
            checked += 1
    # 8 customers x 3 closed months, and Westlake Media (USD) x 2 (March, September); x 2 formats
    assert checked == 52


def test_the_rules_catch_what_the_export_used_to_write():
    """The checks would fail without the feature: the faults the validator reported before."""
    good = documents_to_focus([_row()], provider="Northwind")
    assert focus_rules.violations(focus_rules.read(focus_bytes(good, "csv"), "csv")) == {}
    faults = {
        "ChargeDescription-C-002-M": {"ChargeDescription": "Hosting \u2014 VM \u2265 99%"},
        "PricingUnit-C-006-C": {"PricingUnit": None},
        "PricingUnit-C-003-O": {"PricingUnit": "vm_hour"},  # a SHOULD: not checked
        "ListCost-C-009-C": {"ListUnitPrice": Decimal("0.055161290")},
        "EffectiveCost-C-005-C": {"ChargeCategory": "Purchase"},
    }
    for rule, change in faults.items():
        rows = good.to_pylist()
        rows[0].update(change)
        broken = pa.Table.from_pylist(rows, schema=good.schema)
        found = focus_rules.violations(focus_rules.read(focus_bytes(broken, "csv"), "csv"))
        assert (rule in found) == (not rule.endswith("-O")), (rule, found)
    text = focus_bytes(good, "csv").replace(b"T00:00:00Z", b"T00:00:00.000000Z")
    found = focus_rules.violations(focus_rules.read(text, "csv"))
    assert "BillingPeriodStart-C-002-M" in found and "ChargePeriodEnd-C-002-M" in found
    text = focus_bytes(good, "csv").replace(b"Other (Other)", b"Other (Stuff)")
    assert "ServiceSubcategory-C-003-M" in focus_rules.violations(focus_rules.read(text, "csv"))


def _row(**extra):
    return {
        "customer_code": "acme",
        "customer_name": "Acme",
        "period": "2026-10",
        "currency": "EUR",
        "kind": "usage",
        "description": "Cloud Hosting \u2014 Block storage (metered)",
        "service": "Cloud Hosting",
        "offering": "storage-gb",
        "unit": "gb_month",
        "quantity": Decimal(310),
        "unit_price": Decimal("0.055"),
        "amount": Decimal("17.05"),
        "invoice": "INV-1",
        **extra,
    }


def test_values_in_focus_form():
    table = documents_to_focus(
        [
            _row(),
            _row(
                kind="credit",
                description="Service credit: Availability \u2265 99.5% \u2014 10%",
                quantity=Decimal(1),
                unit=None,
                offering=None,
                unit_price=Decimal("-20"),
                amount=Decimal("-20"),
            ),
            _row(
                kind="subscription",
                unit="vm_hour",
                quantity=Decimal(12000),
                unit_price=Decimal("0.09"),
                amount=Decimal("820"),
                charge_model="graduated",
                steps=[
                    {"quantity": "1000", "unit_price": "0.09", "amount": "90"},
                    {"quantity": "9000", "unit_price": "0.07", "amount": "630"},
                    {"quantity": "2000", "unit_price": "0.05", "amount": "100"},
                ],
            ),
        ],
        provider="Northwind",
    )
    rows = table.to_pylist()
    usage, credit, *tiers = rows
    assert usage["PricingUnit"] == usage["ConsumedUnit"] == "GB-Months"
    assert usage["ListCost"] == Decimal("17.050") == usage["BilledCost"]
    assert usage["ChargeDescription"] == "Cloud Hosting - Block storage (metered)"
    assert credit["ChargeCategory"] == "Credit" and credit["PricingQuantity"] is None
    assert credit["PricingUnit"] is None and credit["ConsumedQuantity"] is None
    assert credit["ChargeDescription"] == "Service credit: Availability >= 99.5% - 10%"
    assert credit["ListCost"] == credit["EffectiveCost"] == credit["BilledCost"] == Decimal(-20)
    # a graduated line: one row per tier, unit price x quantity = cost on each, adding up
    assert [t["ListUnitPrice"] * t["PricingQuantity"] == t["ListCost"] for t in tiers] == [True] * 3
    assert sum(t["BilledCost"] for t in tiers) == Decimal(820)
    assert {(t["ChargeCategory"], t["ChargeFrequency"], t["PricingUnit"]) for t in tiers} == {
        ("Usage", "Recurring", "VM-Hours")
    }
    assert {r["InvoiceId"] for r in rows} == {"INV-1"}
    text = focus_bytes(table, "csv").decode()
    assert "2026-10-01T00:00:00Z" in text and "00.000000Z" not in text
    parquet = pq.read_schema(pa.BufferReader(focus_bytes(table, "parquet")))
    assert parquet.metadata[b"FocusVersion"] == b"1.2"


def test_units_and_text():
    assert [focus_unit(u) for u in ("vm_hour", "gb_month", "hour", "api_call", "ticket")] == [
        "VM-Hours",
        "GB-Months",
        "Hours",
        "API Calls",
        "Tickets",
    ]
    assert ascii_text("Caf\u00e9 \u2014 \u2265 2 \u00d7 3") == "Cafe - >= 2 x 3"


def test_invoiced_rows_carry_the_invoice_and_statement_rows_do_not():
    """InvoiceId (R2): an external customer's charges are invoiced, an internal customer's
    statement is a transfer, not an invoice -- the validator cannot tell the two apart."""
    for customer, period, rows in demo_exports():
        data = focus_rules.read(selectors.focus_file(rows, "parquet"), "parquet")
        numbers = set(
            Invoice.objects.filter(customer=customer, period=period).values_list(
                "number", flat=True
            )
        )
        ids = {r["InvoiceId"] for r in data.rows}
        assert ids == (numbers or {None}), (customer.code, period)


def test_external_exports_never_carry_the_providers_cost():
    for customer, period, rows in demo_exports():
        lines = InvoiceLine.objects.filter(invoice__customer=customer, invoice__period=period)
        costs = {line.cost for line in lines if line.cost is not None}
        costs -= {line.amount for line in lines} | {line.unit_price for line in lines}
        for fmt in FORMATS:
            data = focus_rules.read(selectors.focus_file(rows, fmt), fmt)
            money = {
                Decimal(str(v))
                for r in data.rows
                for k, v in r.items()
                if v is not None and k.endswith(("Cost", "Price"))
            }
            assert not (costs & money), (customer.code, period)
            assert not any("cost" in c.lower() and not c.endswith("Cost") for c in data.columns)


def test_timestamps_are_to_the_second():
    rows = next(iter(demo_exports()))[2]
    data = focus_rules.read(selectors.focus_file(rows, "csv"), "csv")
    assert data.rows[0]["BillingPeriodStart"].endswith(":00Z")
    parquet = focus_rules.read(selectors.focus_file(rows, "parquet"), "parquet")
    assert parquet.rows[0]["BillingPeriodStart"] == dt.datetime(
        *map(int, data.rows[0]["BillingPeriodStart"][:10].split("-")), tzinfo=dt.UTC
    )
