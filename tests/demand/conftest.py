"""Fixtures for demand tests: fresh internal and external demands on the demo customers."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from servicebook.demand import services
from servicebook.demand.models import CapacityPool
from servicebook.parties.models import Contact, Customer

REQUIREMENTS = ["ISO 27001 site", "Data stays in the EU"]


@pytest.fixture
def customers(db) -> dict[str, Customer]:
    return {c.code: c for c in Customer.objects.all()}


@pytest.fixture
def contacts(db) -> dict[str, Contact]:
    return {c.name: c for c in Contact.objects.all()}


@pytest.fixture
def pool(db) -> CapacityPool:
    return CapacityPool.objects.get(name="Infrastructure engineering")


@pytest.fixture
def internal_demand(users, customers, contacts):
    """An R&D request for EUR 800,000 with a business case (not yet challenged)."""

    def make(investment="800000", benefit="180000"):
        demand = services.create_demand(
            actor=users["manager"],
            customer=customers["rnd"],
            requester=contacts["Dr. Lena Novak"],
            title="Secure room",
            expected_outcomes="Confidential work on premises",
            required_investment=D(investment),
            requirements=REQUIREMENTS,
            requested_option="Munich",
            objectives=customers["rnd"].objectives.all(),
        )
        services.record_business_case(
            actor=users["manager"],
            demand=demand,
            expected_business_outcomes="Two contracts a year",
            yearly_net_benefit=D(benefit),
            years=7,
        )
        return demand

    return make


def challenged(demand, users, *, cheaper="600000", compliant=True, choose_requested=True):
    """Add an alternative and let the customer choose its own option."""
    meets = list(demand.requirements.all()) if compliant else []
    alternative = services.add_alternative(
        actor=users["manager"], demand=demand, name="Frankfurt", cost=D(cheaper), meets=meets
    )
    chosen = demand.alternatives.get(is_requested=True) if choose_requested else alternative
    services.choose_alternative(actor=users["manager"], demand=demand, alternative=chosen)
    demand.refresh_from_db()
    return demand


@pytest.fixture
def external_demand(users, customers, contacts):
    def make(investment="100000"):
        return services.create_demand(
            actor=users["manager"],
            customer=customers["pacific"],
            requester=contacts["Wei Ling Tan"],
            title="GPU nodes",
            expected_outcomes="Faster models",
            required_investment=D(investment),
            requirements=["ISO 27001 site"],
            positioning="demand_based",
        )

    return make
