"""The usage endpoints: imports (staff only), cloud mappings, cloud charges and the FOCUS export
(a customer user gets its own charges only, at the price it pays, never the provider's cost)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from servicebook.finance.billing.models import Invoice, InvoiceLine, Statement
from servicebook.finance.usage.models import CloudCharge, CloudMapping, UsageImport
from servicebook.parties.models import Customer
from tests.finance.usage.helpers import SMALL_SAMPLE, replay, snapshot, usage_csv

pytestmark = pytest.mark.django_db
GOOD = "a1,marketing,vm-hour,2,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z"
BAD = "a2,marketing,vm-hour,-2,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z"
LISTS = ["usageimport", "cloudmapping", "cloudcharge"]


@pytest.fixture
def store(settings, tmp_path):
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    return tmp_path / "usage"


def upload(client, path, **data):
    with path.open("rb") as fh:
        return client.post(reverse("usageimport-list"), {"file": fh, **data}, format="multipart")


def test_import_through_the_api_then_again(users, client_for, store, tmp_path):
    client = client_for(users["finance"])
    path = usage_csv(tmp_path / "june.csv", [GOOD, BAD])
    response = upload(client, path, format="csv", period="2026-06")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rows_read"], body["rows_imported"], body["rows_rejected"]) == (2, 1, 1)
    assert body["file"] == "june.csv" and body["rejects"]
    rejects = client.get(reverse("usageimport-rejects", args=[body["id"]]))
    assert rejects.status_code == 200 and "negative quantity" in rejects.content.decode()
    before = snapshot(store), UsageImport.objects.count()
    again = upload(client, path, format="csv", period="2026-06")
    assert again.status_code == 200 and again.json()["already_imported"] is True
    assert (snapshot(store), UsageImport.objects.count()) == before
    detail = client.get(reverse("usageimport-detail", args=[body["id"]])).json()
    assert detail["rows_imported"] == 1 and detail["quantity_totals"] == {"vm_hour": "2.000000"}


def test_api_refusals_change_nothing(users, client_for, store, tmp_path):
    path = usage_csv(tmp_path / "june.csv", [GOOD])
    before = UsageImport.objects.count()
    for role in ("internal", "external"):  # refused for the role before the body (issue 12)
        assert upload(client_for(users[role]), path, format="csv").status_code == 403
    assert upload(client_for(users["manager"]), path, format="csv").status_code == 403
    bad_period = upload(client_for(users["finance"]), path, format="csv", period="June")
    assert bad_period.status_code == 400 and "period" in bad_period.json()
    bill = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2019-06")  # no stored rate for 2019
    no_rate = upload(client_for(users["finance"]), bill, format="focus")
    assert no_rate.status_code == 400 and no_rate.json()["field"] == "exchange_rate"
    assert UsageImport.objects.count() == before and snapshot(store) == {}


def test_focus_import_allocation_report_adds_up(users, client_for, store, tmp_path):
    client = client_for(users["finance"])
    bill = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2026-06")
    response = upload(client, bill, format="focus", exchange_rate="0.92", cost_basis="BilledCost")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cost_basis"] == "BilledCost" and body["totals"] == {"USD": "1.0598035934"}
    report = client.get(reverse("usageimport-allocation", args=[body["id"]])).json()
    (june,) = report["months"]
    parts = D(june["allocated"]) + D(june["shared"]) + D(june["unallocated"])
    assert june["adds_up"] and parts == D(june["total"]) == D("1.0598035934")
    assert sum(D(r["allocated"]) for r in june["rows"]) == D(june["allocated"])


def test_cloud_mappings_crud_for_finance_only(users, client_for):
    finance = client_for(users["finance"])
    hr = Customer.objects.get(code="hr")
    created = finance.post(
        reverse("cloudmapping-list"),
        {"key": "sub_account", "value": "acct-42", "customer": hr.pk, "note": "HR sandbox"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = finance.patch(
        reverse("cloudmapping-detail", args=[pk]), {"customer": None}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["customer"] is None
    airline = Customer.objects.get(code="skybridge")
    refused = finance.patch(reverse("cloudmapping-detail", args=[pk]), {"customer": airline.pk})
    assert refused.status_code == 400 and "customer" in refused.json()
    assert CloudMapping.objects.get(pk=pk).customer is None
    for role in ("internal", "external"):
        client = client_for(users[role])
        assert client.get(reverse("cloudmapping-list")).json()["results"] == []
        assert client.get(reverse("cloudmapping-detail", args=[pk])).status_code == 404
        # a write is refused for the role first (403 whatever the object), issue 12
        assert client.delete(reverse("cloudmapping-detail", args=[pk])).status_code == 403
    assert (
        client_for(users["manager"]).delete(reverse("cloudmapping-detail", args=[pk])).status_code
        == 403
    )
    assert finance.delete(reverse("cloudmapping-detail", args=[pk])).status_code == 204
    assert not CloudMapping.objects.filter(pk=pk).exists()


def test_cloud_charges_are_scoped_to_the_customer(users, client_for):
    internal = client_for(users["internal"]).get(reverse("cloudcharge-list")).json()["results"]
    assert internal and {row["customer_name"] for row in internal} == {"Marketing"}
    assert "amount" in internal[0]  # internal customers may see the cost they consume
    others = CloudCharge.objects.exclude(customer__code="marketing").first()
    detail = client_for(users["internal"]).get(reverse("cloudcharge-detail", args=[others.pk]))
    assert detail.status_code == 404
    assert client_for(users["external"]).get(reverse("cloudcharge-list")).json()["results"] == []


def _walk_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


def test_external_user_never_sees_cost_or_allocations(users, client_for):
    client = client_for(users["external"])
    for basename in LISTS:
        response = client.get(reverse(f"{basename}-list"))
        assert response.status_code == 200 and response.json()["results"] == []
    some_import = UsageImport.objects.first()
    for name in ("usageimport-detail", "usageimport-allocation", "usageimport-rejects"):
        assert client.get(reverse(name, args=[some_import.pk])).status_code == 404
    periods = client.get(reverse("focusexport-list")).json()
    keys = {k.lower() for k in _walk_keys(periods)}
    assert not any("cost" in k or "margin" in k for k in keys)


def read_export(client, period, fmt="csv", **params):
    query = "&".join(f"{k}={v}" for k, v in {"period": period, "format": fmt, **params}.items())
    response = client.get(reverse("focusexport-list") + "?" + query)
    assert response.status_code == 200, response.content
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(response.content)).to_pylist()
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_focus_export_external_gets_its_own_charges_at_price(users, client_for):
    rows = read_export(client_for(users["external"]), "2026-10")
    invoices = Invoice.objects.filter(period="2026-10", customer__code="skybridge")
    lines = InvoiceLine.objects.filter(invoice__in=invoices).exclude(kind="in_kind")
    assert rows and {r["BillingAccountId"] for r in rows} == {"skybridge"}
    assert sum(D(r["BilledCost"]) for r in rows) == sum(inv.gross - inv.credits for inv in invoices)
    # a tiered line is one row per tier (FOCUS: unit price x quantity = cost on every row)
    by_line = {}
    for r in rows:
        key = (r["InvoiceId"], r["ChargeDescription"])
        by_line[key] = by_line.get(key, D(0)) + D(r["BilledCost"])
    assert sorted(by_line.values()) == sorted(line.amount for line in lines)
    assert {r["InvoiceId"] for r in rows} == {inv.number for inv in invoices}
    costs = {line.cost for line in lines if line.cost is not None} - {line.amount for line in lines}
    exported = {D(v) for r in rows for k, v in r.items() if v and k.endswith(("Cost", "Price"))}
    assert not (costs & exported)  # the provider's cost never appears
    # another customer's charges: not even through ?customer=
    marketing = Customer.objects.get(code="marketing")
    assert read_export(client_for(users["external"]), "2026-10", customer=marketing.pk) == []


def test_focus_export_internal_and_staff_in_both_formats(users, client_for):
    rows = read_export(client_for(users["internal"]), "2026-10", "parquet")
    statement = Statement.objects.get(period="2026-10", customer__code="marketing")
    assert {r["SubAccountId"] for r in rows} == {"marketing"}
    assert sum(r["BilledCost"] for r in rows) == statement.total_charge
    assert any(r["ServiceName"] == "Public Cloud (FinOps)" for r in rows)
    staff = read_export(client_for(users["finance"]), "2026-10")
    assert {r["BillingAccountId"] for r in staff} >= {"marketing", "skybridge", "rnd"}
    bad = client_for(users["finance"]).get(
        reverse("focusexport-list") + "?period=2026-10&format=xml"
    )
    assert bad.status_code == 400
    assert json.loads(client_for(users["finance"]).get(reverse("focusexport-list")).content)[
        "periods"
    ]


def test_anonymous_gets_nothing(client_for):
    client = client_for(None)
    for url in (
        reverse("focusexport-list") + "?period=2026-10",
        reverse("usageimport-list"),
        reverse("cloudcharge-list"),
        reverse("cloudmapping-list"),
    ):
        assert client.get(url).status_code in (401, 403), url


def test_focus_export_says_its_focus_version(users, client_for):
    from servicebook.finance.billing.selectors import FOCUS_VERSION
    from servicebook.finance.usage.focus import FOCUS_VERSION as KERNEL_VERSION

    assert FOCUS_VERSION == KERNEL_VERSION == "1.2"
    from django.test import Client

    page = Client()
    page.force_login(users["finance"])
    for client, url in (
        (client_for(users["finance"]), reverse("focusexport-list")),
        (page, "/finance/focus-export/"),
    ):
        response = client.get(url + "?period=2026-10&format=parquet")
        assert response.status_code == 200 and response["X-FOCUS-Version"] == "1.2"
        schema = pq.read_schema(io.BytesIO(response.content))
        assert schema.metadata[b"FocusVersion"] == b"1.2"
