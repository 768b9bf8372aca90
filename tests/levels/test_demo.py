"""The demo: a year of tickets and outages with a breach of each kind of agreement."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from servicebook.agreements.models import Agreement
from servicebook.improvement.models import Improvement
from servicebook.levels.models import Attainment, Credit, Outage, Ticket

pytestmark = pytest.mark.django_db


def test_demo_has_a_year_of_tickets_and_outages():
    assert Ticket.objects.count() > 1500
    active = Agreement.objects.filter(status="active", targets__isnull=False).distinct()
    with_tickets = set(Ticket.objects.order_by().values_list("agreement", flat=True).distinct())
    # every active agreement with targets has tickets; so may one that ended (Westlake Media)
    assert set(active.values_list("pk", flat=True)) <= with_tickets
    assert with_tickets <= set(
        Agreement.objects.filter(targets__isnull=False).values_list("pk", flat=True)
    )
    assert Outage.objects.filter(planned=True).exists()
    assert Outage.objects.filter(planned=False).count() == 2


def test_the_retail_contract_breach_earns_its_credit():
    (breach,) = Attainment.objects.filter(agreement__reference="CT-MER-2026", met=False)
    assert (breach.period, breach.metric, breach.measured_percent) == (
        "2026-03",
        "availability",
        D("98.656"),
    )
    (credit,) = Credit.objects.filter(agreement__reference="CT-MER-2026")
    # 10% of the EUR 22,040.00 monthly fee (availability below 99.0%)
    assert (credit.period, credit.credit_percent, credit.amount) == (
        "2026-03",
        D("10.00"),
        D("2204.00"),
    )
    # pending until a period close carries it (the finance demo closes March: applied)
    assert credit.status == "pending" or credit.applied_reference
    assert credit.agreement.monthly_price() == D("22040.00")
    # planned maintenance in May is excluded: May is met
    may = Attainment.objects.get(
        agreement__reference="CT-MER-2026", metric="availability", period="2026-05"
    )
    assert may.met is True and may.down_seconds == 0


def test_the_internal_breach_raises_an_improvement_item_and_no_credit():
    (breach,) = Attainment.objects.filter(met=False, agreement__reference="SLA-MKT-2026")
    assert (breach.period, breach.metric, breach.target.priority) == (
        "2026-04",
        "resolution_time",
        1,
    )
    (item,) = Improvement.objects.filter(agreement__reference="SLA-MKT-2026")
    assert item.status == "draft" and item.period == "2026-04"
    assert not Credit.objects.filter(agreement__customer__kind="internal").exists()
    assert Attainment.objects.filter(met=False).count() == 2
