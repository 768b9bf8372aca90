"""Retention of external business on the provider dashboard (R23, decision 0023): renewal rate,
churn, revenue kept, customers up for renewal within 90 days and at risk. Staff only."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from servicebook.agreements.lifecycle.services import run_renewals
from servicebook.agreements.models import Agreement
from servicebook.core.services import save_validated
from servicebook.improvement.retention import retention

D = dt.date


def _one_renewed_one_lost():
    retail = Agreement.objects.get(reference="CT-MER-2026")
    retail.end_date = D(2026, 11, 30)
    save_validated(retail)
    run_renewals(on=D(2026, 12, 1))  # Meridian's contract expires
    run_renewals(on=D(2027, 1, 2))  # Pacific's renews by itself
    return retail


def test_renewal_rate_churn_and_revenue_kept(db):
    retail = _one_renewed_one_lost()
    pacific = Agreement.objects.get(reference="CT-PAC-2026", version=1)
    figures = retention(today=D(2027, 1, 10))
    # the demo's Westlake Media contract ended on 2026-09-30 without renewal: lost too
    assert (figures.came_up, figures.renewed, figures.renewal_rate) == (3, 1, Decimal("33.3"))
    assert "Meridian Retail" in figures.customers_lost
    assert "Westlake Media" in figures.customers_lost
    assert "Pacific Analytics" not in figures.customers_lost
    assert figures.churn_rate == Decimal(
        len(figures.customers_lost) * 100 / figures.customers_at_start
    ).quantize(Decimal("0.1"))
    up = pacific.monthly_price() + retail.monthly_price()
    assert figures.revenue_up["EUR"] == up and set(figures.revenue_up) == {"EUR", "USD"}
    assert figures.revenue_kept == {"EUR": pacific.monthly_price()}


def test_internal_agreements_do_not_count(db):
    before = retention(today=D(2027, 1, 10)).came_up
    sla = Agreement.objects.get(reference="SLA-HR-2026")
    sla.end_date = D(2026, 11, 30)
    save_validated(sla)
    run_renewals(on=D(2026, 12, 1))
    figures = retention(today=D(2027, 1, 10))
    assert figures.came_up == before and "Human Resources" not in figures.customers_lost


def test_customers_up_for_renewal_within_90_days_with_their_health(db):
    rows = retention(today=D(2026, 12, 1)).up_for_renewal
    assert [row.agreement.reference for row in rows] == ["CT-PAC-2026"]
    assert rows[0].rating in ("good", "watch", "at_risk")
    assert retention(today=D(2026, 9, 1)).up_for_renewal == []


def test_dashboard_panel_and_api_are_staff_only(users, web_for, client_for):
    page = web_for(users["manager"]).get(reverse("improvement:dashboard")).content.decode()
    assert 'data-testid="retention"' in page and 'data-testid="renewal-rate"' in page
    answer = client_for(users["finance"]).get(reverse("retention-list"), {"on": "2026-12-01"})
    assert answer.status_code == 200
    assert answer.json()["up_for_renewal"][0]["reference"] == "CT-PAC-2026"
    for who in ("external", "internal"):
        assert client_for(users[who]).get(reverse("retention-list")).status_code == 403
    assert (
        client_for(users["manager"]).get(reverse("retention-list"), {"on": "x"}).status_code == 400
    )
