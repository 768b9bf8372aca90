"""Automatic items: internal breaches raise one draft per target and period (never per ticket,
never twice); repeated contract breaches propose one retention item (R13, R14)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.core.errors import PermissionDenied
from servicebook.improvement import services
from servicebook.improvement.models import Improvement, ImprovementEvent
from servicebook.levels import services as levels
from servicebook.levels.models import Attainment


def test_recomputing_an_internal_breach_does_not_duplicate_its_item(users, items):
    sla = Agreement.objects.get(reference="SLA-MKT-2026", status="active")
    before = Improvement.objects.filter(agreement=sla).count()
    levels.recompute_attainment(actor=users["manager"], agreement=sla, reason="test")
    levels.recompute_attainment(actor=users["manager"], agreement=sla, reason="test again")
    assert Improvement.objects.filter(agreement=sla).count() == before == 1
    item = items["breach"]
    assert ImprovementEvent.objects.filter(improvement=item, action="raised").count() == 1
    assert list(item.customers.all()) == [sla.customer]  # concerned customers recorded
    assert item.services.exists()


def test_propose_from_breach_is_idempotent_per_target_and_period(items):
    item = items["breach"]
    again = services.propose_from_breach(
        target=item.target, period=item.period, attainment=D("0"), breaching_tickets_count=12
    )
    assert again.pk == item.pk and again.description == item.description
    other_month = services.propose_from_breach(
        target=item.target, period="2026-05", attainment=D("50"), breaching_tickets_count=1
    )
    assert other_month.pk != item.pk and other_month.status == "draft"


@pytest.fixture
def retail_breaches(db):
    """Meridian's contract missed a target in September and October 2026."""
    contract = Agreement.objects.get(reference="CT-MER-2026", status="active")
    for period in ("2026-09", "2026-10"):
        row = Attainment.objects.filter(agreement=contract, period=period).first()
        Attainment.objects.filter(pk=row.pk).update(met=False, measured_percent=D("97"))
    return contract


def test_repeated_contract_breaches_propose_one_retention_item(users, retail_breaches):
    manager = users["manager"]
    # Meridian's demo retention item is still open: nothing new
    assert services.propose_retention_improvements(actor=manager, period="2026-10") == []
    Improvement.objects.filter(agreement=retail_breaches).update(status="dropped")
    created = services.propose_retention_improvements(actor=manager, period="2026-10")
    assert len(created) == 1
    (item,) = created
    assert (item.customer.code, item.driver, item.status, item.source) == (
        "meridian",
        "retention",
        "draft",
        "service_level_breach",
    )
    assert "2026-09, 2026-10" in item.title
    assert item.customer_profitability is not None  # staff see whether it is worth retaining
    # not duplicated: the same window, a later window while it is open
    assert services.propose_retention_improvements(actor=manager, period="2026-10") == []
    assert services.propose_retention_improvements(actor=manager, period="2026-11") == []
    assert Improvement.objects.filter(agreement=retail_breaches, driver="retention").count() == 2


def test_one_breached_month_in_three_is_not_repeated(users, retail_breaches):
    Improvement.objects.filter(agreement=retail_breaches).update(status="dropped")
    # window 2026-10 … 2026-12 holds only the October breach
    assert services.propose_retention_improvements(actor=users["manager"], period="2026-12") == []


def test_internal_breaches_never_propose_retention(users):
    sla = Agreement.objects.get(reference="SLA-HR-2026", status="active")
    for period in ("2026-09", "2026-10"):
        row = Attainment.objects.filter(agreement=sla, period=period).first()
        Attainment.objects.filter(pk=row.pk).update(met=False)
    assert services.propose_retention_improvements(actor=users["manager"], period="2026-10") == []


def test_retention_proposal_needs_a_service_manager(users, retail_breaches):
    Improvement.objects.filter(agreement=retail_breaches).update(status="dropped")
    with pytest.raises(PermissionDenied):
        services.propose_retention_improvements(actor=users["external"], period="2026-10")
    assert not Improvement.objects.filter(
        driver="retention", status="draft", feedback__isnull=True
    ).exists()


def test_retention_proposal_over_the_api(users, client_for, retail_breaches):
    Improvement.objects.filter(agreement=retail_breaches).update(status="dropped")
    url = reverse("improvement-propose-retention")
    assert client_for(users["internal"]).post(url, {"period": "2026-10"}).status_code == 403
    assert client_for(users["manager"]).post(url, {"period": "10/2026"}).status_code == 400
    response = client_for(users["manager"]).post(url, {"period": "2026-10"}, format="json")
    assert response.status_code == 201
    assert [row["driver"] for row in response.json()] == ["retention"]
    again = client_for(users["manager"]).post(url, {"period": "2026-10"}, format="json")
    assert again.status_code == 200 and again.json() == []
