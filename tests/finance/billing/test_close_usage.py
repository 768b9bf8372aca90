"""Rated usage enters the close when the usage store holds records for the month: internal usage
at cost (policy applied before rating), external usage at the contract's prices."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from servicebook.catalog.models import Offering
from servicebook.finance.billing import services
from servicebook.finance.billing.models import Invoice, Statement
from servicebook.finance.ledger.verify import verify as verify_ledger
from servicebook.finance.usage.records import Offering as StoreOffering
from servicebook.finance.usage.store import UsageStore
from servicebook.parties.models import Customer

pytestmark = pytest.mark.django_db
PERIOD = "2026-08"


def test_usage_is_rated_into_statements_and_invoices(users, settings, tmp_path):
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    vm = Offering.objects.get(code="vm-hour")
    csv = tmp_path / "usage.csv"
    csv.write_text(
        "record_id,customer,offering,quantity,unit,start_time,end_time\n"
        "r1,marketing,vm-hour,500,vm_hour,2026-08-03T00:00:00Z,2026-08-03T01:00:00Z\n"
        "r2,pacific,vm-hour,1500,vm_hour,2026-08-04T00:00:00Z,2026-08-04T01:00:00Z\n"
    )
    summary = UsageStore(settings.SERVICEBOOK_USAGE_DIR).import_file(
        csv,
        source="test",
        customers={c.code: c.pk for c in Customer.objects.all()},
        offerings={vm.code: StoreOffering(vm.pk, vm.unit)},
    )
    assert summary.rows_imported == 2
    result = services.close_period(
        actor=users["finance"], period=PERIOD, earlier_reason="late usage"
    )
    assert result["usage_lines"] == 2
    statement = Statement.objects.get(period=PERIOD, customer__code="marketing")
    metered = statement.lines.get(source="usage")
    assert metered.quantity == 500 and metered.unit_cost == vm.standard_unit_cost
    assert metered.charge == metered.cost == (500 * vm.standard_unit_cost).quantize(D("0.01"))
    invoice = Invoice.objects.get(period=PERIOD, customer__code="pacific")
    usage = invoice.lines.get(kind="usage")
    # graduated tiers of the offering: 1000 at 0.09, 500 at 0.07
    assert usage.amount == D("125.00")
    assert invoice.gross == sum(
        invoice.lines.exclude(kind="in_kind").values_list("amount", flat=True), D(0)
    )
    assert verify_ledger()["ok"]


def test_a_close_in_chunks_rates_each_chunk_s_usage_only(users, settings, tmp_path, monkeypatch):
    """Chunk by chunk, rating reads only the chunk's customers' usage (the first chunk also
    everybody billed in no document): the same documents, usage lines and warnings as a close
    in one chunk."""
    from servicebook.finance.usage import rating
    from tests.finance.billing.test_close_chunks import _close_with_chunks

    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    vm = Offering.objects.get(code="vm-hour")
    # every customer whose documents are in euros, as the offering's prices (not in dollars)
    customers = [
        c
        for c in Customer.objects.order_by("code")
        if c.currency in ("", "EUR") and not c.agreements.exclude(currency="EUR").exists()
    ]
    # and one with no agreement at all: billed in no document
    orphan = Customer.objects.get(pk=customers[0].pk)
    orphan.pk, orphan.code, orphan.name = None, "no-agreement", "No Agreement Ltd"
    orphan.save()
    customers.append(orphan)
    rows = [
        f"r{i},{c.code},vm-hour,{100 * (i + 1)},vm_hour,2026-08-{3 + i % 20:02d}T00:00:00Z,"
        f"2026-08-{3 + i % 20:02d}T01:00:00Z"
        for i, c in enumerate(customers)
    ]
    csv = tmp_path / "usage.csv"
    csv.write_text(
        "record_id,customer,offering,quantity,unit,start_time,end_time\n" + "\n".join(rows)
    )
    UsageStore(settings.SERVICEBOOK_USAGE_DIR).import_file(
        csv,
        source="test",
        customers={c.code: c.pk for c in customers},
        offerings={vm.code: StoreOffering(vm.pk, vm.unit)},
    )
    asked: list = []
    rate = rating.rate

    def recorded(*args, **kwargs):
        asked.append(kwargs.get("customers"))
        return rate(*args, **kwargs)

    monkeypatch.setattr(rating, "rate", recorded)
    whole, whole_result, _ = _close_with_chunks(users, monkeypatch, 10_000)
    assert asked == [None]
    asked.clear()
    chunked, chunked_result, chunks = _close_with_chunks(users, monkeypatch, 1)
    assert len(asked) == len(chunks) > 2
    assert asked[0] is None and all(len(c) == 1 for c in asked[1:])
    assert whole_result["usage_lines"] >= 2
    assert chunked == whole
    for key in ("usage_lines", "warnings", "totals", "lines"):
        assert chunked_result[key] == whole_result[key], key
    # a customer billed in no document is reported once, by the first chunk
    unbilled = [w for w in whole_result["warnings"] if "no agreement in force" in w]
    assert len(unbilled) == 1 and str(orphan.pk) in unbilled[0]
    assert unbilled == [w for w in chunked_result["warnings"] if "no agreement in force" in w]


def test_the_price_rows_are_each_customer_s_row_by_row(users):
    """The price rows a close rates with (at cost rows repeated per policy and currency as Arrow
    columns) are those of the rule written row by row: list prices, then each statement
    customer's rate at cost of every offering, then each invoice customer's contract prices,
    numbered in that order, all from the month's first instant."""
    import datetime as dt
    from types import SimpleNamespace

    from servicebook.agreements.models import Agreement, AgreementLine
    from servicebook.finance.billing.documents import Catalog
    from servicebook.finance.billing.usage_lines import TIERED_MODELS, _price_rows
    from servicebook.parties.models import Provider
    from servicebook.policy import policy_for

    catalog = Catalog.load(PERIOD)
    provider = Provider.objects.get()
    internal = [c for c in Customer.objects.order_by("code") if not policy_for(c).charge_is_revenue]
    contracts = [a for a in Agreement.objects.order_by("pk") if a.lines.exists()][:2]
    statements = {
        c.pk: SimpleNamespace(customer=c, currency=currency)
        for c, currency in zip(internal, ["EUR", "USD", "EUR", "EUR", "USD"], strict=False)
    }
    invoices = {
        a.customer_id: SimpleNamespace(customer=a.customer, currency=a.currency, agreement=a)
        for a in contracts
    }
    start = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    got = _price_rows(SimpleNamespace(provider=provider), start, statements, invoices, catalog)

    expected = []

    def row(customer, offer, model, price, currency, tiered):
        expected.append(
            {
                "price_id": len(expected) + 1,
                "customer_id": customer,
                "offering_id": offer.id,
                "valid_from": start,
                "valid_to": None,
                "charge_model": model,
                "unit_price": None if tiered else price,
                "package_size": offer.package if model == "package" else None,
                "currency": currency,
                "tier_set_id": offer.id if tiered else None,
                "unit": offer.unit,
            }
        )

    for offer in catalog.offers.values():
        row(
            None, offer, offer.model, offer.list_price, offer.currency, offer.model in TIERED_MODELS
        )
    for doc in statements.values():
        for offer in catalog.offers.values():
            rate = policy_for(doc.customer).charge_rate(
                unit_cost=catalog.unit_cost(offer.id, doc.currency),
                unit_price=D(0),
                provider=provider,
            )
            if rate is not None:
                row(doc.customer.pk, offer, "per_unit", rate, doc.currency, False)
    for doc in invoices.values():
        for line in AgreementLine.objects.filter(agreement=doc.agreement).order_by("pk"):
            offer = catalog.offers[line.offering_id]
            row(
                doc.customer.pk,
                offer,
                offer.model,
                line.unit_price,
                doc.currency,
                offer.model in TIERED_MODELS,
            )
    assert len(statements) >= 2 and invoices
    assert got.num_rows == len(expected) > len(catalog.offers)
    assert got.to_pylist() == [
        {
            **r,
            "unit_price": None
            if r["unit_price"] is None
            else D(r["unit_price"]).quantize(D("1e-10")),
        }
        | {
            "package_size": None
            if r["package_size"] is None
            else D(r["package_size"]).quantize(D("1e-6"))
        }
        for r in expected
    ]
