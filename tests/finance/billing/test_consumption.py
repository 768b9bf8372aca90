"""Consumption at cost: ONE selector (finance.consumption), every page and report shows its
figure for the same customer and period, labelled the same way (issue 12: Marketing read 4,792
on one page and 5,444.44 on another)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from servicebook import ports
from servicebook.catalog.models import Offering
from servicebook.finance.billing.consumption import LABEL, consumption_for
from servicebook.finance.billing.models import Statement
from servicebook.parties import billing
from servicebook.parties.models import Customer

pytestmark = pytest.mark.django_db

CLOSED = "2026-10"


def _this_month() -> str:
    return dt.date.today().strftime("%Y-%m")


def _figure(html: str, testid: str = "consumption") -> list[str]:
    return re.findall(rf'data-testid="{testid}">([^<]*)<', html)


@pytest.fixture
def marketing():
    return Customer.objects.select_related("provider").get(code="marketing")


def test_closed_period_is_the_closed_statements_cost(marketing):
    statement = Statement.objects.get(customer=marketing, period=CLOSED)
    found = consumption_for(marketing, CLOSED)
    assert found.closed and found.amount == statement.total_cost == Decimal("5444.44")
    assert statement.number in found.basis
    assert found.label == LABEL == "Consumption at cost"


def test_open_period_is_the_estimate_from_agreements_at_standard_cost(marketing):
    found = consumption_for(marketing, "2026-12")
    assert not found.closed and found.amount == Decimal("4792.00")
    assert "estimate" in found.basis and "metered usage counts at the close" in found.basis


def test_a_cost_in_another_currency_is_left_out_and_named(marketing):
    laptop = Offering.objects.get(code="laptop")
    laptop.currency = "USD"
    laptop.save(update_fields=["currency"])
    found = consumption_for(marketing, "2026-12")
    assert found.amount == Decimal("4792.00") - Decimal("2720.00")  # never added 1:1 (R6)
    assert any("USD" in why and "EUR" in why for why in found.unknown)


@pytest.mark.parametrize("period", [CLOSED, "this-month"])
def test_every_page_and_api_shows_the_same_figure(users, client_for, web_for, marketing, period):
    period = _this_month() if period == "this-month" else period
    expected = consumption_for(marketing, period)
    amount = expected.amount
    shown = f"{amount:,.2f}"
    api, web = client_for(users["admin"]), web_for(users["admin"])

    # parties: funding report (page and API; relationship health and breach detection use it)
    page = web.get(f"/customers/funding/?period={period}").content.decode()
    assert any(shown in cell for cell in _figure(page)), page
    assert expected.basis.split(":")[0] in page
    if period == _this_month():  # the API reports this month
        rows = api.get("/api/commitments/funding_report/").json()
        (row,) = [r for r in rows if r["customer"] == marketing.pk]
        assert Decimal(row["consumption_at_cost"]) == amount

    # relationship health (API and page)
    health = api.get(f"/api/relationship-health/{marketing.pk}/?period={period}").json()
    assert Decimal(str(health["consumption_at_cost"])) == amount
    page = web.get(f"/improvement/health/{marketing.pk}/?period={period}").content.decode()
    assert any(shown in cell for cell in _figure(page)), page

    # review pack (API and page)
    pack = api.get(f"/api/review-packs/{marketing.pk}/?period={period}").json()
    consumption = pack["charges"]["consumption_at_cost"]
    assert consumption["label"] == LABEL
    assert Decimal(str(consumption["amount"])) == amount
    page = web.get(f"/improvement/reviews/{marketing.pk}/{period}/").content.decode()
    assert any(shown in cell for cell in _figure(page)), page

    # demand competition (page and API)
    competition = api.get(f"/api/capacity-pools/competition/?period={period}").json()
    figures = [
        c for pool in competition for c in pool["competitors"] if c["customer"] == marketing.pk
    ]
    for competitor in figures:
        assert Decimal(str(competitor["monthly_cost"])) == amount
        assert competitor["consumption_basis"] == expected.basis
    page = web.get(f"/demand/capacity/?period={period}").content.decode()
    if figures:
        assert any(shown in cell for cell in _figure(page)), page

    # finance reports (closed periods have statements)
    if expected.closed:
        report = api.get(f"/api/finance-reports/funding/?period={period}").json()
        (row,) = [r for r in report["rows"] if r["customer_id"] == marketing.pk]
        assert Decimal(str(row["consumption_at_cost"])) == amount
        page = web.get(f"/finance/reports/?period={period}").content.decode()
        assert any(shown in cell for cell in _figure(page)), page


def test_demo_marketing_competes_for_capacity(client_for, users, marketing):
    """The competition page really shows Marketing (so the check above is not vacuous)."""
    competition = client_for(users["admin"]).get("/api/capacity-pools/competition/").json()
    assert any(c["customer"] == marketing.pk for p in competition for c in p["competitors"])


def test_parties_reads_it_through_the_plug_in(marketing, monkeypatch):
    found = billing.consumption_at_cost([marketing], CLOSED)
    assert found[marketing.pk].amount == Decimal("5444.44")
    monkeypatch.setattr(ports.consumption_at_cost, "_parts", [])  # finance did not plug in
    with pytest.raises(ImproperlyConfigured, match="nothing provides consumption_at_cost"):
        billing.consumption_at_cost([marketing], CLOSED)
