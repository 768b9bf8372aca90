"""Pricing policy (R5, R6): internal at cost × (1 + allowed margin); a commercial provider cannot
activate a contract line priced below cost without a finance override."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.agreements.models import AgreementLine
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.finance.costing import services as costing
from servicebook.finance.costing.models import PriceFloorOverride
from servicebook.finance.costing.selectors import check_price_floor
from servicebook.parties.models import Customer, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def cheap_line():
    line = AgreementLine.objects.get(
        agreement__customer__code="pacific", agreement__status="active", offering__code="vm-hour"
    )
    AgreementLine.objects.filter(pk=line.pk).update(unit_price=D("0.001"))
    line.refresh_from_db()
    return line


def test_demo_contracts_are_priced_above_cost():
    for customer in Customer.objects.filter(kind="external"):
        for agreement in customer.agreements.filter(status="active"):
            assert check_price_floor(agreement) == []


def test_line_below_cost_blocks_until_finance_overrides(users, cheap_line):
    agreement = cheap_line.agreement
    from servicebook.catalog.models import Offering

    Offering.objects.filter(code="vm-hour").update(charge_model="per_unit")
    problems = check_price_floor(agreement)
    assert len(problems) == 1 and "below its cost" in problems[0]
    with pytest.raises(PermissionDenied):
        costing.record_price_override(
            actor=users["manager"],
            agreement=agreement,
            offering=cheap_line.offering,
            reason="strategic",
        )
    with pytest.raises(DomainError, match="reason"):
        costing.record_price_override(
            actor=users["finance"], agreement=agreement, offering=cheap_line.offering, reason=" "
        )
    assert not PriceFloorOverride.objects.exists()
    costing.record_price_override(
        actor=users["finance"],
        agreement=agreement,
        offering=cheap_line.offering,
        reason="Entry price for a three-year deal",
    )
    assert check_price_floor(agreement) == []
    assert agreement.events.filter(action="price_override").exists()


def test_non_commercial_provider_is_not_blocked(cheap_line):
    from servicebook.catalog.models import Offering

    Offering.objects.filter(code="vm-hour").update(charge_model="per_unit")
    Provider.objects.update(sector="non_profit")
    assert check_price_floor(cheap_line.agreement) == []


def test_internal_agreements_are_never_checked():
    agreement = Customer.objects.get(code="marketing").agreements.get(status="active")
    AgreementLine.objects.filter(agreement=agreement).update(unit_price=D(0))
    assert check_price_floor(agreement) == []


def test_price_floor_api_is_staff_only(users, client_for, cheap_line):
    url = reverse("priceoverride-check") + f"?agreement={cheap_line.agreement_id}"
    assert client_for(users["finance"]).get(url).status_code == 200
    external = client_for(users["external"])
    assert external.get(url).status_code == 404
    response = external.post(
        reverse("priceoverride-list"),
        {"agreement": cheap_line.agreement_id, "offering": cheap_line.offering_id, "reason": "x"},
    )
    assert response.status_code == 403  # refused before the body is read (issue 12)
    assert not PriceFloorOverride.objects.exists()
