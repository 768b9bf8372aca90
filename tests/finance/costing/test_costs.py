"""Cost of services (R4): pools, allocation rules, unit costs, idle capacity, CSV import."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.catalog.models import Service
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.costing import allocation
from servicebook.finance.costing import services as costing
from servicebook.finance.costing.models import AllocationRule, CostPool, ServiceCost, UnitCost

pytestmark = pytest.mark.django_db
P = "2026-11"


def test_allocate_fixed_and_driver_rules_sum_exactly():
    result = allocation.allocate_pools(
        [("hardware", D("100.00")), ("internal_labor", D("10.00"))],
        {
            "hardware": ("fixed", [(1, D("33.3333")), (2, D("33.3333")), (None, D("33.3334"))]),
            "internal_labor": ("headcount", []),
        },
        {"headcount": {1: D(1), 2: D(2)}},
        "EUR",
    )
    total = sum(sum(parts.values()) for parts in result.values())
    assert total == D("110.00")
    assert result[None]["hardware"] == D("33.34")
    assert result[2]["internal_labor"] == D("6.67")


@pytest.mark.parametrize(
    "rules, drivers, message",
    [
        ({}, {}, "no allocation rule"),
        ({"hardware": ("fixed", [(1, D(60))])}, {}, "sum to 60"),
        ({"hardware": ("tickets", [])}, {}, "no tickets driver values"),
    ],
)
def test_allocation_refusals(rules, drivers, message):
    with pytest.raises(allocation.AllocationError, match=message):
        allocation.allocate_pools([("hardware", D("1.00"))], rules, drivers, "EUR")


def test_unit_costs_split_service_cost_exactly():
    rows = allocation.unit_costs(
        D("1000.00"), [(1, D(3), D("2")), (2, D(7), D("1")), (3, D(0), D("5"))], "EUR"
    )
    assert [r[0] for r in rows] == [1, 2]
    assert sum(r[2] for r in rows) == D("1000.00")
    assert rows[0][3] == (rows[0][2] / 3).quantize(D("0.000001"))


def test_demo_costs_are_allocated_with_idle_capacity_separate():
    rows = ServiceCost.objects.filter(period="2026-10")
    pools = sum(CostPool.objects.filter(period="2026-10").values_list("amount", flat=True))
    assert sum(r.total for r in rows) == pools
    idle = rows.get(service__isnull=True)
    assert idle.total == D("2100.00")
    assert UnitCost.objects.filter(period="2026-10").count() >= 8


def test_idle_capacity_can_be_spread(users, settings):
    settings.SERVICEBOOK_IDLE_CAPACITY = "spread"
    # 2026-10 is closed: its costs can no longer change
    with pytest.raises(DomainError, match="closed"):
        costing.compute_service_costs(actor=users["finance"], period="2026-10")
    for pool in CostPool.objects.filter(period="2026-10"):
        costing.set_cost_pool(
            actor=users["finance"],
            period=P,
            category=pool.category,
            name=pool.name,
            amount=pool.amount,
        )
    from servicebook.finance.costing.models import DriverValue

    for value in DriverValue.objects.filter(period="2026-10"):
        DriverValue.objects.create(
            period=P, driver=value.driver, service=value.service, quantity=value.quantity
        )
    result = costing.compute_service_costs(actor=users["finance"], period=P)
    assert result["idle_capacity"] == "spread"
    rows = ServiceCost.objects.filter(period=P)
    assert not rows.filter(service__isnull=True).exists()
    assert sum(r.idle for r in rows) == D("2100.00")
    assert sum(r.total for r in rows) == sum(
        CostPool.objects.filter(period=P).values_list("amount", flat=True)
    )


def test_unit_costs_drive_internal_charges():
    from servicebook.finance.billing.models import Statement

    laptop = UnitCost.objects.get(period="2026-10", offering__code="laptop")
    line = Statement.objects.get(period="2026-10", customer__code="marketing").lines.get(
        offering__code="laptop"
    )
    assert line.unit_cost == laptop.unit_cost != laptop.offering.standard_unit_cost


def test_fixed_rule_must_sum_to_100(users):
    desk = Service.objects.get(code="service-desk")
    before = list(AllocationRule.objects.values_list("category", "driver"))
    with pytest.raises(DomainError, match="sum to 100"):
        costing.set_allocation_rule(
            actor=users["finance"], category="telecom", driver="fixed", shares=[(desk, "90")]
        )
    assert list(AllocationRule.objects.values_list("category", "driver")) == before


def test_cost_editing_needs_finance(users):
    with pytest.raises(PermissionDenied):
        costing.set_cost_pool(
            actor=users["manager"], period=P, category="hardware", name="x", amount="1"
        )
    assert not CostPool.objects.filter(period=P).exists()


def test_csv_import_rejects_rows_with_their_reason(users):
    text = (
        "period,category,name,amount\n"
        f"{P},hardware,Servers,1000.00\n"
        f"{P},spaceships,Rockets,5\n"
        f"{P},software,Licences,abc\n"
        "2026-13,telecom,Links,3\n"
        f"{P},telecom,Links,-4\n"
        f"{P},telecom,Links,250.50\n"
    )
    result = costing.import_cost_pools(actor=users["finance"], text=text)
    assert result["read"] == 6 == result["imported"] + result["rejected"]
    assert result["imported"] == 2
    rows = {r["row"]: r["reason"] for r in result["rejects"]}
    assert set(rows) == {2, 3, 4, 5}
    assert "category" in rows[2] and "not a number" in rows[3] and "period" in rows[4]
    assert CostPool.objects.filter(period=P).count() == 2


def test_csv_import_without_columns_is_one_clear_refusal(users):
    with pytest.raises(DomainError, match="lacks the column"):
        costing.import_cost_pools(actor=users["finance"], text="foo,bar\n1,2\n")


def test_import_costs_command(tmp_path, capsys):
    from servicebook.cli import main

    path = tmp_path / "pools.csv"
    path.write_text(f"period,category,name,amount\n{P},hardware,Servers,10\n{P},x,y,1\n")
    assert main(["import", "costs", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"imported": 1' in out and '"rejected": 1' in out
    assert main(["import", "costs", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_costs_page_and_api_are_staff_only(users, web_for, client_for):
    page = web_for(users["finance"]).get(reverse("finance:costs") + "?period=2026-10")
    assert page.status_code == 200 and b"Shared and idle capacity" in page.content
    for role in ("internal", "external"):
        assert web_for(users[role]).get(reverse("finance:costs")).status_code == 403
        client = client_for(users[role])
        for name in ("costpool-list", "servicecost-list", "unitcost-list", "allocationrule-list"):
            assert client.get(reverse(name)).json()["count"] == 0


def test_compute_through_the_api(users, client_for):
    costing.set_cost_pool(
        actor=users["finance"], period=P, category="hardware", name="S", amount="100"
    )
    response = client_for(users["finance"]).post(reverse("costpool-compute"), {"period": P})
    assert response.status_code == 200 and response.json()["pools"] == 1
    refused = client_for(users["manager"]).post(reverse("costpool-compute"), {"period": P})
    assert refused.status_code == 403


def test_costs_page_records_and_imports_pools(
    users, web_for, settings, django_capture_on_commit_callbacks, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from servicebook.core.models import Job
    from tests.inline_jobs import inline_jobs

    web = web_for(users["finance"])
    response = web.post(
        reverse("finance:costs"),
        {"action": "pool", "period": P, "category": "telecom", "name": "Links", "amount": "12.50"},
    )
    assert response.status_code == 302
    assert CostPool.objects.get(period=P, name="Links").amount == D("12.50")
    upload = SimpleUploadedFile(
        "pools.csv", f"period,category,name,amount\n{P},hardware,S,1\n{P},bogus,T,2\n".encode()
    )
    with inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path):
        page = web.post(reverse("finance:costs"), {"action": "import", "period": P, "file": upload})
    job = Job.objects.get()  # the import ran as a background job
    assert page.status_code == 302 and page["Location"] == reverse("web:job", args=[job.pk])
    assert (job.status, job.summary["rows_imported"], job.summary["rows_rejected"]) == (
        "succeeded",
        1,
        1,
    )
    rejects = web.get(reverse("web:job-rejects", args=[job.pk]))
    assert b"".join(rejects.streaming_content).splitlines()[1].startswith(b"2,")
    refused = web_for(users["manager"]).post(
        reverse("finance:costs"),
        {"action": "pool", "period": P, "category": "telecom", "name": "X", "amount": "1"},
    )
    assert refused.status_code == 403
    assert not CostPool.objects.filter(period=P, name="X").exists()
