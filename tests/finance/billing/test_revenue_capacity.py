"""R8: the "revenue funds capacity" report pinned exactly on constructed data -- the selector,
the API and the page show the same figures (halving any of them fails here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from servicebook.agreements.models import Agreement
from servicebook.finance.billing import selectors
from servicebook.finance.billing.models import Invoice
from servicebook.finance.costing.models import CostPool

pytestmark = pytest.mark.django_db
PERIOD = "2027-03"  # nothing of the demo lives here


@pytest.fixture
def constructed():
    contracts = list(
        Agreement.objects.filter(customer__kind="external", status="active")
        .select_related("customer")
        .order_by("customer__name")[:2]
    )
    assert len(contracts) == 2
    figures = [  # gross, credits, cost
        (D("12000.00"), D("500.00"), D("7000.00")),
        (D("3000.00"), D("0.00"), None),
    ]
    for n, (agreement, (gross, credits, cost)) in enumerate(
        zip(contracts, figures, strict=True), start=1
    ):
        Invoice.objects.create(
            number=f"INV-{PERIOD}-9{n:04d}",
            period=PERIOD,
            customer=agreement.customer,
            agreement=agreement,
            currency="EUR",
            issue_date=dt.date(2027, 4, 1),
            due_date=dt.date(2027, 5, 1),
            gross=gross,
            credits=credits,
            total=gross - credits,
            total_incl_tax=gross - credits,
            cash_amount=gross - credits,
            cost=cost,
        )
    for category, amount in [
        ("internal_labor", "20000.00"),
        ("hardware", "4000.00"),
        ("cloud_services", "1000.00"),
        ("facilities_power", "99999.00"),  # not capacity: not in the figure
    ]:
        CostPool.objects.create(
            period=PERIOD, category=category, name=category, amount=D(amount), currency="EUR"
        )
    return contracts


def test_report_figures_are_exact(constructed):
    first, second = constructed
    report = selectors.revenue_vs_capacity(PERIOD)
    assert report["rows"] == [
        {
            "customer": first.customer.name,
            "currency": "EUR",
            "revenue": D("11500.00"),
            "capacity_cost": D("7000.00"),
            "contribution": D("4500.00"),
            "base_revenue": D("11500.00"),
            "base_capacity_cost": D("7000.00"),
        },
        {
            "customer": second.customer.name,
            "currency": "EUR",
            "revenue": D("3000.00"),
            "capacity_cost": None,
            "contribution": None,
            "base_revenue": D("3000.00"),
            "base_capacity_cost": None,
        },
    ]
    assert report["currency"] == "EUR" and report["refused"] == ""
    assert report["external_revenue"] == D("14500.00")
    assert report["capacity_spend"] == D("25000.00")
    assert report["funded_percent"] == D("58.0")  # 14,500 × 100 / 25,000


def test_api_and_page_show_the_same_figures(constructed, users, client_for, web_for):
    data = (
        client_for(users["finance"])
        .get(f"/api/finance-reports/revenue-capacity/?period={PERIOD}")
        .json()
    )
    assert D(data["external_revenue"]) == D("14500.00")
    assert D(data["capacity_spend"]) == D("25000.00")
    assert D(data["funded_percent"]) == D("58.0")
    assert [D(r["revenue"]) for r in data["rows"]] == [D("11500.00"), D("3000.00")]
    assert D(data["rows"][0]["contribution"]) == D("4500.00")
    page = web_for(users["finance"]).get(f"/finance/reports/?period={PERIOD}").content.decode()
    assert 'data-testid="capacity-revenue">EUR 14,500.00<' in page
    assert 'data-testid="capacity-spend">EUR 25,000.00<' in page
    assert 'data-testid="capacity-funded">58.0%<' in page
    assert "EUR 4,500.00" in page and "EUR 11,500.00" in page


def test_external_users_never_get_the_report(constructed, users, client_for):
    response = client_for(users["external"]).get(
        f"/api/finance-reports/revenue-capacity/?period={PERIOD}"
    )
    assert response.status_code == 404
