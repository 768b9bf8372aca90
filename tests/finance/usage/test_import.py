"""Importing usage through the service: every bad input of the issue goes to the rejects file
with its reason and nothing else stops; the same file or record twice changes nothing; FOCUS bills
keep their BilledCost and EffectiveCost to the last digit and are allocated exactly."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.fx.models import ExchangeRate
from servicebook.finance.fx.selectors import rate_on
from servicebook.finance.usage import focus
from servicebook.finance.usage import services as usage_services
from servicebook.finance.usage.models import (
    CloudCharge,
    CloudMapping,
    UsageImport,
    UsageImportEvent,
)
from servicebook.finance.usage.store import UsageStore
from servicebook.parties.models import Customer
from tests.finance.usage.helpers import (
    FULL_SAMPLE,
    SMALL_SAMPLE,
    replay,
    snapshot,
    usage_csv,
    write,
)

pytestmark = pytest.mark.django_db

GOOD = "g1,marketing,vm-hour,2.5,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z"


@pytest.fixture
def store(settings, tmp_path) -> Path:
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    return tmp_path / "usage"


def rejects_of(summary) -> dict[str, str]:
    with open(summary["rejects"], newline="") as fh:
        return {row["record_id"]: row["reason"] for row in csv.DictReader(fh)}


def test_every_bad_row_is_rejected_with_its_reason_and_the_rest_imported(users, store, tmp_path):
    path = usage_csv(
        tmp_path / "june.csv",
        [
            GOOD + ",",
            "u1,nobody,vm-hour,1,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z,",
            "u2,marketing,no-such-offering,1,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z,",
            "u3,marketing,vm-hour,-1,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z,",
            "u4,marketing,vm-hour,lots,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z,",
            "u5,marketing,vm-hour,1,gb_month,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z,",
            "u6,marketing,vm-hour,1,vm_hour,2026-07-03T00:00:00Z,2026-07-03T01:00:00Z,",
            "u7,marketing,vm-hour,1,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z,USD",
            "g2,rnd,hpc-node-hour,0.25,vm_hour,2026-06-04T00:00:00Z,2026-06-04T01:00:00Z,EUR",
        ],
        header="record_id,customer,offering,quantity,unit,start_time,end_time,currency",
    )
    record, summary = usage_services.import_usage(
        actor=users["finance"], path=path, format="csv", period="2026-06"
    )
    assert (summary["rows_read"], summary["rows_imported"], summary["rows_rejected"]) == (9, 2, 7)
    assert record.rows_read == record.rows_imported + record.rows_skipped_duplicate + 7
    reasons = rejects_of(summary)
    assert "unknown customer 'nobody'" in reasons["u1"]
    assert "unknown offering 'no-such-offering'" in reasons["u2"]
    assert "negative quantity '-1'" in reasons["u3"]
    assert "non-numeric quantity 'lots'" in reasons["u4"]
    assert "unit 'gb_month' is not the offering's unit" in reasons["u5"]
    assert "outside period 2026-06" in reasons["u6"]
    assert "currency 'USD' is not the customer's billing currency" in reasons["u7"]
    stored = UsageStore(store).read("2026-06")
    assert sorted(stored["record_id"].to_pylist()) == ["g1", "g2"]
    assert summary["quantity_totals"] == {"vm_hour": "2.750000"}
    event = UsageImportEvent.objects.get(usage_import=record)
    assert event.actor == users["finance"] and "7 rejected" in event.note


def test_a_closed_month_takes_no_usage(users, store, tmp_path):
    path = usage_csv(
        tmp_path / "late.csv",
        ["late,marketing,vm-hour,1,vm_hour,2026-10-03T00:00:00Z,2026-10-03T01:00:00Z", GOOD],
    )
    _, summary = usage_services.import_usage(actor=users["finance"], path=path, format="csv")
    assert summary["rows_rejected"] == 1
    assert "closed period" in rejects_of(summary)["late"]


def test_the_same_file_or_record_twice_changes_nothing(users, store, tmp_path):
    path = usage_csv(tmp_path / "a.csv", [GOOD])
    first, summary = usage_services.import_usage(actor=users["finance"], path=path, format="csv")
    assert summary["rows_imported"] == 1 and not summary["already_imported"]
    before = snapshot(store), UsageImport.objects.count(), UsageImportEvent.objects.count()
    again, summary = usage_services.import_usage(actor=users["finance"], path=path, format="csv")
    assert again == first and summary["already_imported"] and summary["rows_imported"] == 0
    assert (snapshot(store), UsageImport.objects.count(), UsageImportEvent.objects.count()) == (
        before
    )
    # another file repeating a stored record id: the record is skipped, not duplicated
    other = usage_csv(
        tmp_path / "b.csv",
        [GOOD, "g9,marketing,vm-hour,1,vm_hour,2026-06-05T00:00:00Z,2026-06-05T01:00:00Z"],
    )
    _, summary = usage_services.import_usage(actor=users["finance"], path=other, format="csv")
    assert (summary["rows_imported"], summary["rows_skipped_duplicate"]) == (1, 1)
    assert sorted(UsageStore(store).read("2026-06")["record_id"].to_pylist()) == ["g1", "g9"]


@pytest.mark.parametrize("role", ["internal", "external", "manager", "change"])
def test_only_finance_and_admins_import(users, store, tmp_path, role):
    path = usage_csv(tmp_path / "a.csv", [GOOD])
    before = UsageImport.objects.count()
    with pytest.raises(PermissionDenied):
        usage_services.import_usage(actor=users[role], path=path, format="csv")
    assert snapshot(store) == {} and UsageImport.objects.count() == before


def test_file_level_problems_are_refused_in_one_line(users, store, tmp_path):
    bad = write(tmp_path / "bad.csv", "record_id,customer\nx,marketing\n")
    before = UsageImport.objects.count()
    with pytest.raises(DomainError, match="lacks required column"):
        usage_services.import_usage(actor=users["finance"], path=bad, format="csv")
    with pytest.raises(DomainError, match="no such file"):
        usage_services.import_usage(
            actor=users["finance"], path=tmp_path / "none.csv", format="csv"
        )
    with pytest.raises(DomainError, match="csv or focus"):
        usage_services.import_usage(actor=users["finance"], path=bad, format="xml")
    assert UsageImport.objects.count() == before and not (store / "_manifest.json").exists()


# --------------------------------------------------------------------------- FOCUS


def map_units(users, **units: str) -> None:
    for value, code in units.items():
        usage_services.set_cloud_mapping(
            actor=users["finance"],
            key="tag",
            tag_key="business_unit",
            value=value,
            customer=Customer.objects.get(code=code),
        )


def test_full_focus_sample_survives_import_and_allocation_to_the_last_digit(users, store, tmp_path):
    if not FULL_SAMPLE.exists():
        pytest.skip(f"FOCUS 1.0 sample not found at {FULL_SAMPLE}")
    map_units(users, PeoriaData="rnd", TempeAI="rnd", LipaData="marketing")
    path = replay(FULL_SAMPLE, tmp_path / "bill.csv", "2026-06")
    record, summary = usage_services.import_usage(
        actor=users["finance"], path=path, format="focus", exchange_rate="0.92"
    )
    assert (summary["rows_read"], summary["rows_imported"], summary["rows_rejected"]) == (
        1000,
        1000,
        0,
    )
    assert summary["totals"] == {"USD": "20.52022672899"}
    assert summary["effective_totals"] == {"USD": "14.97651418586"}
    stored = focus.read_stored(store)
    totals = focus.focus_totals(stored)
    assert totals["BilledCost"] == {"USD": D("20.52022672899")}
    assert totals["EffectiveCost"] == {"USD": D("14.97651418586")}
    # allocation: for both columns, every month's parts add up to its total; months to the file
    for column, file_total in (
        ("BilledCost", "20.52022672899"),
        ("EffectiveCost", "14.97651418586"),
    ):
        months = record.report["allocation"]
        whole = D(0)
        for report in (m[column] for m in months.values()):
            parts = D(report["allocated_total"]) + D(report["shared"]) + D(report["unallocated"])
            assert parts == D(report["total"])
            assert sum(map(D, report["allocated"].values()), D(0)) == D(report["allocated_total"])
            whole += D(report["total"])
        assert whole == D(file_total)
    june = record.report["allocation"]["2026-06"]["EffectiveCost"]
    rnd = Customer.objects.get(code="rnd")
    assert june["direct"][str(rnd.pk)] == "16"  # PeoriaData: 16.000 of EffectiveCost
    charge = CloudCharge.objects.get(usage_import=record, customer=rnd, period="2026-06")
    assert charge.exact == "16" and charge.amount == D("14.72")  # x 0.92, EUR
    assert summary["allocation"]["2026-06"]["shared"] == june["shared"] != "0"


def test_small_sample_spread_mode_leaves_no_shared_pool(users, store, tmp_path):
    map_units(users, PeoriaData="rnd", TempeAI="marketing")
    path = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2026-06")
    record, summary = usage_services.import_usage(
        actor=users["finance"],
        path=path,
        format="focus",
        cost_basis="BilledCost",
        shared_mode="spread",
        exchange_rate="0.9",
    )
    report = record.report["allocation"]["2026-06"]["BilledCost"]
    assert report["shared"] == "0" and D(report["allocated_total"]) == D(report["total"])
    assert summary["totals"] == {
        "USD": str(focus.focus_totals(focus.read_focus(path))["BilledCost"]["USD"].normalize())
    }
    charges = CloudCharge.objects.filter(usage_import=record)
    assert {c.customer.code for c in charges} <= {"rnd", "marketing", "hr", "finance-dept"}
    for c in charges:
        assert c.amount == (D(c.exact) * D("0.9")).quantize(D("0.01"))
        assert D(c.exact) == D(c.direct) + D(c.spread)


def test_focus_bad_rows_are_rejected_not_the_file(users, store, tmp_path):
    path = replay(
        SMALL_SAMPLE,
        tmp_path / "bill.csv",
        "2026-06",
        rows=10,
        row1={"BilledCost": "abc"},
        row2={"BillingCurrency": "EUR"},
        row3={"ChargePeriodStart": "yesterday"},
        row4={"BillingPeriodStart": "2026-05-01 00:00:00"},
    )
    _, summary = usage_services.import_usage(
        actor=users["finance"], path=path, format="focus", period="2026-06", exchange_rate="1.1"
    )
    assert (summary["rows_read"], summary["rows_imported"], summary["rows_rejected"]) == (10, 6, 4)
    with open(summary["rejects"], newline="") as fh:
        reasons = {int(r["row_number"]): r["reason"] for r in csv.DictReader(fh)}
    assert "BilledCost: 'abc' is not a number" in reasons[2]
    assert "is not the bill's currency USD" in reasons[3]
    assert "ChargePeriodStart: 'yesterday' is not a timestamp" in reasons[4]
    assert "outside period 2026-06" in reasons[5]


def test_focus_row_with_the_wrong_number_of_fields_is_rejected_not_the_file(users, store, tmp_path):
    path = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2026-06", rows=10, row5={"BilledCost": "x"})
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, "truncated,row\n")  # becomes data row 3: the rows after it move down
    path.write_text("".join(lines), encoding="utf-8")
    _, summary = usage_services.import_usage(
        actor=users["finance"], path=path, format="focus", period="2026-06", exchange_rate="1.1"
    )
    assert (summary["rows_read"], summary["rows_imported"], summary["rows_rejected"]) == (11, 9, 2)
    with open(summary["rejects"], newline="") as fh:
        reasons = {int(r["row_number"]): r["reason"] for r in csv.DictReader(fh)}
    assert sorted(reasons) == [3, 7]
    assert reasons[3].startswith("row 3: has 2 fields, the header has ")
    assert "'truncated,row'" in reasons[3]
    assert "BilledCost: 'x' is not a number" in reasons[7]  # the 6th bill row, 7th in the file


def test_a_bill_in_another_currency_converts_at_the_rate_of_its_billing_period(
    users, store, tmp_path
):
    """No rate given: the June bill in USD converts at the ECB rate of 30 June (the last known
    on or before it), stored on the import; the rate of the day of the import plays no part."""
    map_units(users, PeoriaData="rnd", TempeAI="rnd", LipaData="marketing")
    path = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2026-06")
    record, _ = usage_services.import_usage(actor=users["finance"], path=path, format="focus")
    june = rate_on("EUR", "USD", dt.date(2026, 6, 30))
    factor = (D(1) / june.value).quantize(D("0.0000000001"))
    assert record.exchange_rate == factor
    assert record.report["exchange_rates"] == {"2026-06": str(factor)}
    charges = CloudCharge.objects.filter(usage_import=record)
    assert charges
    for charge in charges:
        assert charge.amount == (D(charge.exact) * factor).quantize(D("0.01"))


def test_a_bill_in_another_currency_without_a_rate_for_its_period_is_refused(
    users, store, tmp_path
):
    ExchangeRate.objects.filter(Q(currency="USD") | Q(base="USD")).delete()
    path = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2026-06")
    before = UsageImport.objects.count()
    with pytest.raises(DomainError, match="No EUR/USD exchange rate on or before 2026-06-30") as no:
        usage_services.import_usage(actor=users["finance"], path=path, format="focus")
    assert no.value.field == "exchange_rate" and "give the exchange rate (USD → EUR)" in str(
        no.value
    )
    assert snapshot(store) == {} and UsageImport.objects.count() == before


def test_focus_needs_the_offering_it_is_charged_under(users, store, tmp_path, settings):
    settings.SERVICEBOOK_FOCUS_OFFERING = "no-such-offering"
    path = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2026-06")
    before = UsageImport.objects.count()
    with pytest.raises(DomainError, match="no offering 'no-such-offering'"):
        usage_services.import_usage(
            actor=users["finance"], path=path, format="focus", exchange_rate="1"
        )
    assert UsageImport.objects.count() == before and snapshot(store) == {}


def test_cloud_cost_goes_only_to_customers_charged_at_cost(users):
    before = list(CloudMapping.objects.values_list("pk", "customer_id"))
    with pytest.raises(ValidationError, match="charged at cost"):
        usage_services.set_cloud_mapping(
            actor=users["finance"],
            key="tag",
            tag_key="business_unit",
            value="Airline",
            customer=Customer.objects.get(code="skybridge"),
        )
    with pytest.raises(ValidationError, match="tag name"):
        usage_services.set_cloud_mapping(
            actor=users["finance"], key="tag", value="x", customer=None
        )
    with pytest.raises(PermissionDenied):
        usage_services.set_cloud_mapping(
            actor=users["internal"], key="sub_account", value="123", customer=None
        )
    assert list(CloudMapping.objects.values_list("pk", "customer_id")) == before


def test_mapping_precedence_resource_then_tag_then_sub_account():
    table = pa.table(
        {
            "BilledCost": pa.array([D("1"), D("2"), D("4"), D("8")], focus.FOCUS_DECIMAL),
            "BillingCurrency": ["USD"] * 4,
            "ResourceId": ["r1", "r2", None, None],
            "SubAccountId": ["s", "s", "s", "t"],
            "Tags": [json.dumps({"bu": "A"})] * 3 + [None],
        }
    )
    rules = focus.AllocationRules(
        resources={"r1": "R"}, tags={"bu": {"A": "T"}}, sub_accounts={"s": "S", "t": "S"}
    )
    assert focus.owners(table, rules) == ["R", "T", "T", "S"]
