"""R6: cost and price of different currencies are never compared or added without an exchange
rate: without one the price floor and the close refuse, naming the pair and the date (decision
0025); the reports never add two currencies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from servicebook.agreements.models import Agreement
from servicebook.finance.billing import selectors
from servicebook.finance.billing.models import Invoice
from servicebook.finance.billing.plan import build_plan
from servicebook.finance.costing import services as costing
from servicebook.finance.costing.models import CAPACITY_CATEGORIES, CostPool
from servicebook.finance.costing.selectors import check_price_floor
from servicebook.finance.fx.models import ExchangeRate

pytestmark = pytest.mark.django_db


@pytest.fixture
def usd_contract():
    agreement = Agreement.objects.filter(
        customer__code="pacific", status="active", lines__offering__standard_unit_cost__gt=0
    ).first()
    Agreement.objects.filter(pk=agreement.pk).update(currency="USD")
    agreement.refresh_from_db()
    return agreement


def test_price_floor_refuses_to_compare_eur_cost_with_usd_price(usd_contract):
    ExchangeRate.objects.all().delete()
    problems = check_price_floor(usd_contract)
    assert problems, "a USD contract on EUR costs must not pass the floor unchecked"
    for problem in problems:
        assert "No EUR/USD exchange rate on or before" in problem
        assert "below its cost" not in problem  # no 1:1 comparison, no "USD <EUR figure>"


def test_price_floor_override_accepts_the_line(users, usd_contract):
    line = usd_contract.lines.first()
    costing.record_price_override(
        actor=users["finance"],
        agreement=usd_contract,
        offering=line.offering,
        reason="USD price agreed; checked by hand at today's rate",
    )
    assert not any(str(line.offering) in p for p in check_price_floor(usd_contract))


def test_close_without_a_rate_is_refused_naming_the_pair_and_date(usd_contract):
    ExchangeRate.objects.all().delete()
    plan = build_plan("2026-11")
    assert (
        "No EUR/USD exchange rate on or before 2026-11-30: import the ECB rates or enter one"
        in (plan.problems)
    )


def test_close_converts_the_eur_cost_at_the_documents_rate(usd_contract):
    plan = build_plan("2026-11")  # the demo's rates end on 2026-10-30: that one is used
    doc = next(d for d in plan.documents if d.agreement and d.agreement.pk == usd_contract.pk)
    assert doc.currency == "USD" and doc.rate.value == Decimal("1.1172")
    assert doc.rate.date == dt.date(2026, 10, 30)
    assert all(item.cost is not None for item in doc.items if item.kind == "subscription")
    assert not plan.problems


def test_revenue_capacity_counts_usd_revenue_in_eur_at_the_invoices_rate(users, client_for):
    invoice = Invoice.objects.filter(period="2026-10", currency="EUR").first()
    before = selectors.revenue_vs_capacity("2026-10")
    Invoice.objects.filter(pk=invoice.pk).update(currency="USD", exchange_rate=Decimal("1.25"))
    report = selectors.revenue_vs_capacity("2026-10")
    in_eur = (invoice.total / Decimal("1.25")).quantize(Decimal("0.01"))
    assert report["refused"] == "" and report["currency"] == "EUR"
    assert report["external_revenue"] == before["external_revenue"] - invoice.total + in_eur
    row = next(r for r in report["rows"] if r["currency"] == "USD")
    assert (row["revenue"], row["base_revenue"]) == (invoice.total, in_eur)
    api = client_for(users["finance"]).get("/api/finance-reports/revenue-capacity/?period=2026-10")
    assert (
        api.status_code == 200
        and Decimal(api.json()["external_revenue"]) == (report["external_revenue"])
    )


def test_revenue_capacity_refuses_to_add_spend_of_another_currency(users, web_for):
    pool = CostPool.objects.filter(period="2026-10", category__in=CAPACITY_CATEGORIES).first()
    CostPool.objects.filter(pk=pool.pk).update(currency="USD")
    report = selectors.revenue_vs_capacity("2026-10")
    assert report["funded_percent"] is None and report["external_revenue"] is None
    assert "EUR and USD" in report["refused"] and "exchange rate" in report["refused"]
    page = web_for(users["finance"]).get("/finance/reports/?period=2026-10")
    assert page.status_code == 200
    assert "EUR and USD" in page.content.decode() and 'data-testid="capacity-funded"' not in (
        page.content.decode()
    )


def test_margin_chart_adds_customers_in_the_base_currency_at_each_invoices_rate(users, web_for):
    invoice = Invoice.objects.filter(period="2026-10", currency="EUR").first()
    Invoice.objects.filter(pk=invoice.pk).update(currency="USD", exchange_rate=Decimal("1.25"))
    rows = selectors.external_margin("2026-10")
    usd = [r for r in rows if r["currency"] == "USD"]
    assert usd and all(r["base_currency"] == "EUR" for r in rows)
    for r in usd:
        assert r["base_revenue"] == (r["revenue"] / Decimal("1.25")).quantize(Decimal("0.01"))
    assert all(r["margin"] is None or r["revenue"] - r["cost"] == r["margin"] for r in rows)
    page = web_for(users["finance"]).get("/finance/reports/?period=2026-10").content.decode()
    assert f"{invoice.customer.name} (EUR)" in page and "(USD)" not in page
    assert "Margin in EUR" in page
