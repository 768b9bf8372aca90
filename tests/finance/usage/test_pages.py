"""Usage pages, the period close with rated usage and cloud cost, and the demo's month of usage."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.finance.billing import services
from servicebook.finance.billing.models import Statement
from servicebook.finance.ledger.verify import verify as verify_ledger
from servicebook.finance.usage import services as usage_services
from servicebook.finance.usage.models import CloudCharge, CloudMapping, UsageImport
from servicebook.parties.models import Customer
from tests.finance.usage.helpers import SMALL_SAMPLE, replay, usage_csv

pytestmark = pytest.mark.django_db
GOOD = "p1,marketing,vm-hour,3,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z"


@pytest.fixture
def store(settings, tmp_path):
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    return tmp_path / "usage"


def test_the_demo_has_a_month_of_usage_and_a_cloud_bill_on_its_statements():
    imports = {i.format: i for i in UsageImport.objects.all()}
    metered, bill = imports["csv"], imports["focus"]
    assert metered.periods == ["2026-10"] and metered.rows_imported > 10_000
    assert metered.rows_rejected == 3 and metered.rejects_path
    assert bill.rows_read == bill.rows_imported and bill.cost_basis == "BilledCost"
    rnd = Statement.objects.get(period="2026-10", customer__code="rnd")
    cloud = rnd.lines.get(source="focus")
    charge = CloudCharge.objects.get(period="2026-10", customer=rnd.customer)
    assert cloud.charge == cloud.cost == charge.amount > 0
    assert rnd.lines.filter(source="usage", offering__code="hpc-node-hour").exists()
    marketing = Statement.objects.get(period="2026-10", customer__code="marketing")
    vm = marketing.lines.get(source="usage", offering__code="vm-hour")
    assert vm.quantity == 6 * 31 * 24
    assert CloudMapping.objects.filter(tag_key="business_unit").count() >= 5


@pytest.mark.parametrize("role", ["finance", "admin", "manager"])
def test_usage_pages_render_for_staff(users, web_for, role):
    web = web_for(users[role])
    page = web.get(reverse("finance:usage")).content.decode()
    assert "focus-2026-10.csv" in page and "usage-2026-10" in page
    bill = UsageImport.objects.get(format="focus")
    detail = web.get(reverse("finance:usage-import", args=[bill.pk])).content.decode()
    assert "parts add up exactly" in detail and "R&amp;D Lab" in detail
    assert "= allocated + shared + unallocated" in detail and "20.52022672899" in detail
    assert web.get(reverse("finance:cloud-mappings")).status_code == 200
    metered = UsageImport.objects.get(format="csv")
    rejects = web.get(reverse("finance:usage-rejects", args=[metered.pk]))
    reasons = [row["reason"] for row in csv.DictReader(io.StringIO(rejects.content.decode()))]
    assert len(reasons) == 3 and any("unknown customer 'nobody'" in r for r in reasons)
    editable = "usage-import-form" in page
    assert editable == (role in ("finance", "admin"))


@pytest.mark.parametrize("role", ["internal", "external"])
def test_usage_pages_are_staff_only(users, web_for, role):
    web = web_for(users[role])
    bill = UsageImport.objects.get(format="focus")
    for url in (
        reverse("finance:usage"),
        reverse("finance:usage-import", args=[bill.pk]),
        reverse("finance:usage-rejects", args=[bill.pk]),
        reverse("finance:cloud-mappings"),
    ):
        assert web.get(url).status_code == 403, url


def test_import_and_mapping_from_the_pages(
    users, web_for, store, tmp_path, settings, django_capture_on_commit_callbacks
):
    from servicebook.core.models import Job
    from tests.inline_jobs import inline_jobs

    web = web_for(users["finance"])
    path = usage_csv(tmp_path / "web.csv", [GOOD])
    with path.open("rb") as fh, inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path):
        response = web.post(
            reverse("finance:usage"),
            {"file": fh, "format": "csv", "cost_basis": "EffectiveCost", "shared_mode": "separate"},
        )
    record = UsageImport.objects.get(filename="web.csv")
    assert response.status_code == 302 and record.imported_by == users["finance"]
    page = web.get(response["Location"]).content.decode()  # the job's page links to the import
    assert reverse("finance:usage-import", args=[record.pk]) in page
    bill = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2019-06")  # no stored rate for 2019
    with bill.open("rb") as fh, inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path):
        web.post(
            reverse("finance:usage"),
            {"file": fh, "format": "focus", "cost_basis": "BilledCost", "shared_mode": "spread"},
        )
    refused = Job.objects.get(params__filename="bill.csv")
    assert refused.status == "failed" and "exchange rate" in refused.error
    hr = Customer.objects.get(code="hr")
    web.post(
        reverse("finance:cloud-mappings"),
        {"key": "resource", "value": "i-0abc", "customer": hr.pk, "tag_key": ""},
    )
    mapping = CloudMapping.objects.get(key="resource", value="i-0abc")
    assert mapping.customer == hr
    web.post(reverse("finance:cloud-mappings"), {"action": "delete", "pk": mapping.pk})
    assert not CloudMapping.objects.filter(pk=mapping.pk).exists()
    manager = web_for(users["manager"])
    before = CloudMapping.objects.count()
    response = manager.post(
        reverse("finance:cloud-mappings"),
        {"key": "resource", "value": "i-0def", "customer": hr.pk, "tag_key": ""},
    )
    assert response.status_code == 403 and CloudMapping.objects.count() == before


def test_close_rates_usage_and_puts_cloud_cost_on_statements(users, store, tmp_path):
    usage_services.import_usage(
        actor=users["finance"], path=usage_csv(tmp_path / "m.csv", [GOOD]), format="csv"
    )
    usage_services.set_cloud_mapping(
        actor=users["finance"],
        key="tag",
        tag_key="business_unit",
        value="PeoriaData",
        customer=Customer.objects.get(code="marketing"),
    )
    bill = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2026-06")
    record, _ = usage_services.import_usage(
        actor=users["finance"],
        path=bill,
        format="focus",
        cost_basis="BilledCost",
        exchange_rate="0.5",
    )
    charge = CloudCharge.objects.get(usage_import=record, customer__code="marketing")
    result = services.close_period(actor=users["finance"], period="2026-06", earlier_reason="test")
    assert result["usage_lines"] >= 1
    statement = Statement.objects.get(period="2026-06", customer__code="marketing")
    cloud = statement.lines.get(source="focus")
    assert (
        cloud.charge
        == cloud.cost
        == charge.amount
        == (D(charge.exact) * D("0.5")).quantize(D("0.01"))
    )
    assert statement.lines.get(source="usage").quantity == 3
    assert statement.total_cost == sum(line.cost for line in statement.lines.all())
    assert verify_ledger()["ok"]
    # the month is closed now: a bill for it is refused row by row
    again = replay(SMALL_SAMPLE, tmp_path / "again.csv", "2026-06", rows=5)
    _, summary = usage_services.import_usage(
        actor=users["finance"], path=again, format="focus", exchange_rate="0.5"
    )
    assert summary["rows_imported"] == 0 and summary["rows_rejected"] == 5


def test_focus_export_page_for_customers(users, web_for):
    web = web_for(users["external"])
    page = web.get(reverse("finance:focus-export"))
    assert page.status_code == 200 and "2026-10" in page.content.decode()
    response = web.get(reverse("finance:focus-export") + "?period=2026-10&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and {r["BillingAccountId"] for r in rows} == {"skybridge"}
    assert "focus-export-link" in web.get(reverse("finance:documents")).content.decode()


def test_rating_reads_object_storage_and_runs_on_the_configured_engine(settings):
    from servicebook.finance.usage.backends import rating_backend, usage_glob
    from servicebook.finance.usage.store import UsageStore

    store = UsageStore(settings.SERVICEBOOK_USAGE_DIR)
    assert usage_glob(store, "2026-10") == store.parquet_glob("2026-10")
    settings.SERVICEBOOK_USAGE_URL = "s3://bucket/servicebook/usage/"
    assert usage_glob(store, "2026-10") == (
        "s3://bucket/servicebook/usage/period=2026-10/*.parquet"
    )
    settings.SERVICEBOOK_USAGE_URL = ""
    settings.SERVICEBOOK_RATING_BACKEND = "oracle"
    with pytest.raises(ValueError, match="duckdb or pyspark"):
        rating_backend()
    settings.SERVICEBOOK_RATING_BACKEND = "duckdb"
    assert rating_backend().name == "duckdb"
