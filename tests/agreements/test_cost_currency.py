"""R6 in the agreements API and page: a line's cost in EUR is never labelled with a USD
contract's currency or subtracted from its price 1:1; cost and margin are unknown with a reason
naming both currencies, shown to those who see cost (never to the external customer)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from servicebook.agreements.models import Agreement

pytestmark = pytest.mark.django_db


@pytest.fixture
def sky():
    return Agreement.objects.get(reference="CT-SKY-2026")


@pytest.fixture
def usd_sky(sky):
    Agreement.objects.filter(pk=sky.pk).update(currency="USD")  # its offerings cost EUR
    sky.refresh_from_db()
    return sky


def test_same_currency_cost_and_margin_are_shown(users, client_for, sky):
    data = client_for(users["finance"]).get(f"/api/agreements/{sky.pk}/").json()
    assert Decimal(data["monthly_cost"]) == Decimal("15140.00")
    assert data["cost_unknown"] == []
    for line in data["lines"]:
        assert line["monthly_cost"] is not None and line["cost_unknown_reason"] is None
        assert Decimal(line["monthly_margin"]) == Decimal(line["monthly_price"]) - Decimal(
            line["monthly_cost"]
        )


@pytest.mark.parametrize("username", ["finance", "admin"])
def test_cost_in_another_currency_is_unknown_with_both_currencies(
    users, client_for, usd_sky, username
):
    data = client_for(users[username]).get(f"/api/agreements/{usd_sky.pk}/").json()
    assert data["currency"] == "USD"
    assert data["monthly_cost"] is None
    assert data["cost_unknown"] and all(
        "EUR" in why and "USD" in why and "exchange rate" in why for why in data["cost_unknown"]
    )
    for line in data["lines"]:
        assert line["monthly_cost"] is None
        assert line["monthly_margin"] is None
        reason = line["cost_unknown_reason"]
        assert "in EUR" in reason and "in USD" in reason
    assert Decimal(data["monthly_price"]) == Decimal("21020.00")  # the price is still known


def test_the_page_says_why_instead_of_a_usd_cost(users, web_for, usd_sky):
    page = web_for(users["finance"]).get(f"/agreements/{usd_sky.pk}/").content.decode()
    assert 'data-testid="cost-unknown"' in page
    assert "USD 15,140.00" not in page  # the EUR cost labelled USD (the 1:1 mix)
    assert "in EUR and the agreement in USD" in page


def test_the_external_customer_sees_no_cost_nor_its_reason(users, client_for, web_for, usd_sky):
    data = client_for(users["external"]).get(f"/api/agreements/{usd_sky.pk}/").json()
    assert "monthly_cost" not in data and "cost_unknown" not in data
    for line in data["lines"]:
        assert not {"monthly_cost", "monthly_margin", "cost_unknown_reason"} & set(line)
    page = web_for(users["external"]).get(f"/agreements/{usd_sky.pk}/").content.decode()
    assert 'data-testid="cost-unknown"' not in page and "exchange rate" not in page


@pytest.mark.parametrize("username", ["manager", "change", "senior"])
def test_staff_outside_finance_see_cost_but_no_margin(users, client_for, web_for, sky, username):
    """Margins are for finance and the provider admin only (issue 12); cost is for staff."""
    user = users[username]
    data = client_for(user).get(f"/api/agreements/{sky.pk}/").json()
    assert data["monthly_cost"] is not None
    assert all("monthly_cost" in line and "monthly_margin" not in line for line in data["lines"])
    listed = client_for(user).get("/api/agreement-lines/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows and not any("monthly_margin" in row for row in rows)
    page = web_for(user).get(f"/agreements/{sky.pk}/").content.decode()
    assert '<th class="money">Margin</th>' not in page


def test_finance_sees_the_margin_column(users, web_for, sky):
    page = web_for(users["finance"]).get(f"/agreements/{sky.pk}/").content.decode()
    assert '<th class="money">Margin</th>' in page
