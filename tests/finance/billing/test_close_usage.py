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
