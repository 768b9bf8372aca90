"""R18/R17/R16/R10 through the service layer: every policy branch and every refusal."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from servicebook.catalog.models import Service
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.demand import investment, services
from servicebook.demand.models import Alternative, CapacityNeed, DemandEvent, DemandRequest
from servicebook.parties import services as parties
from tests.demand.conftest import challenged


def _state(demand):
    demand.refresh_from_db()
    return (
        demand.status,
        demand.justified_at,
        demand.approved_by_contact_id,
        CapacityNeed.objects.filter(demand=demand, reserved=True).count(),
        DemandEvent.objects.filter(demand=demand).count(),
    )


# --- the request (R17, R16) ---------------------------------------------------------------------


def test_customer_user_requests_as_itself(users, customers):
    demand = services.create_demand(
        actor=users["internal"],
        customer=customers["marketing"],
        title="CDP",
        expected_outcomes="One view of customers",
        required_investment=D("1000"),
        requirements=["GDPR"],
        objectives=customers["marketing"].objectives.all(),
    )
    assert demand.requester.name == "Clara Dupont" and demand.status == "submitted"
    option = demand.alternatives.get()
    assert option.is_requested and option.cost == D("1000") and option.meets_every_requirement()


def test_refused_request_from_a_contact_who_is_not_a_requester(users, customers, contacts):
    tom = contacts["Tom Richter"]
    parties.update_contact(actor=users["manager"], contact=tom, is_requester=False)
    count = DemandRequest.objects.count()
    with pytest.raises(DomainError) as error:
        services.create_demand(
            actor=users["manager"],
            customer=customers["rnd"],
            requester=tom,
            title="x",
            expected_outcomes="y",
            required_investment=D("1"),
        )
    assert error.value.code == "not_a_requester"
    assert DemandRequest.objects.count() == count


def test_refused_request_from_a_suspended_customer(users, customers):
    parties.change_customer_status(
        actor=users["manager"],
        customer=customers["marketing"],
        to_status="suspended",
        reason="illegal_use",  # non-payment needs an overdue invoice (R16)
    )
    count = DemandRequest.objects.count()
    with pytest.raises(DomainError, match=r"Marketing is suspended .*new requests are refused"):
        services.create_demand(
            actor=users["internal"],
            customer=customers["marketing"],
            title="x",
            expected_outcomes="y",
            required_investment=D("1"),
        )
    assert DemandRequest.objects.count() == count


def test_a_customer_user_cannot_request_for_another_customer(users, customers):
    with pytest.raises(PermissionDenied):
        services.create_demand(
            actor=users["external"],
            customer=customers["marketing"],
            title="x",
            expected_outcomes="y",
            required_investment=D("1"),
        )


# --- internal: the challenge --------------------------------------------------------------------


def test_business_case_npv_and_payback_at_the_provider_rate(internal_demand):
    case = internal_demand().business_case
    rate = D("0.08")
    annuity = (1 - (1 + rate) ** -7) / rate
    expected = (D("180000") * annuity - D("800000")).quantize(D("0.01"))
    assert case.discount_rate == rate
    assert abs(case.npv - expected) <= D("0.01")
    assert case.npv == D("137146.61")
    assert case.payback_years == D("4.44")
    assert case.roi_percent == D("57.50")


def test_investment_figures():
    assert investment.npv(
        investment=D("100"), yearly_benefit=D("110"), years=1, rate=D("0.10")
    ) == D("0.00")
    assert investment.payback_years(investment=D("100"), yearly_benefit=D("0"), years=5) is None
    assert investment.payback_years(investment=D("100"), yearly_benefit=D("10"), years=5) is None
    assert investment.cheaper_by_percent(chosen=D("800000"), cheaper=D("600000")) == D("25.00")
    assert investment.price_floor(cost=D("100"), minimum_margin=D("0.10")) == D("110.00")
    with pytest.raises(ValueError):
        investment.npv(investment=D("1"), yearly_benefit=D("1"), years=0, rate=D("0.1"))


def test_costlier_choice_is_held_until_a_senior_management_justification(
    internal_demand, users, contacts
):
    demand = challenged(internal_demand(), users)
    assert demand.status == "held"
    assert services.difference_percent(demand) == D("25.00")
    held = demand.events.get(to_state="held")
    assert "25.00% cheaper" in held.note and "Frankfurt" in held.note
    before = _state(demand)
    with pytest.raises(DomainError) as error:
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
        )
    assert error.value.code == "justification_required"
    assert _state(demand) == before
    for role in ("manager", "admin"):  # only a senior manager records it, not the IT admin
        with pytest.raises(PermissionDenied):
            services.record_justification(actor=users[role], demand=demand, justification="x")
    assert _state(demand) == before
    services.record_justification(
        actor=users["senior"], demand=demand, justification="Board accepts the premium"
    )
    demand.refresh_from_db()
    assert demand.status == "assessment" and demand.justified_by == users["senior"]
    demand = services.approve_demand(
        actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
    )
    assert demand.status == "approved"


def test_cheaper_alternative_that_fails_a_requirement_does_not_hold(internal_demand, users):
    demand = challenged(internal_demand(), users, compliant=False)
    assert demand.status == "assessment"
    assert services.cheaper_compliant(demand) is None


def test_choosing_the_cheaper_option_needs_no_justification(internal_demand, users, contacts):
    demand = challenged(internal_demand(), users, choose_requested=False)
    assert demand.status == "assessment"
    demand = services.approve_demand(
        actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
    )
    assert demand.status == "approved"


def test_changing_the_choice_clears_the_justification(internal_demand, users):
    demand = challenged(internal_demand(), users)
    services.record_justification(actor=users["senior"], demand=demand, justification="ok")
    frankfurt = demand.alternatives.get(name="Frankfurt")
    services.choose_alternative(actor=users["manager"], demand=demand, alternative=frankfurt)
    demand.refresh_from_db()
    assert demand.justified_at is None and demand.status == "assessment"
    services.choose_alternative(
        actor=users["manager"],
        demand=demand,
        alternative=demand.alternatives.get(is_requested=True),
    )
    demand.refresh_from_db()
    assert demand.status == "held"  # the justification was for the earlier choice


def test_refused_approval_without_business_case_alternatives_or_choice(users, customers, contacts):
    demand = services.create_demand(
        actor=users["manager"],
        customer=customers["rnd"],
        requester=contacts["Dr. Lena Novak"],
        title="x",
        expected_outcomes="y",
        required_investment=D("10"),
        objectives=customers["rnd"].objectives.all(),
    )
    with pytest.raises(DomainError) as error:
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
        )
    assert error.value.code == "no_business_case"
    assert "alternatives" in error.value.message and "not chosen" in error.value.message
    demand.refresh_from_db()
    assert demand.status == "submitted"


def test_refused_approval_without_authority(internal_demand, users, contacts):
    demand = challenged(
        internal_demand(investment="1200000", benefit="300000"),  # positive NPV
        users,
        cheaper="1100000",
        compliant=False,
    )
    before = _state(demand)
    with pytest.raises(DomainError) as error:  # Lena's limit is EUR 1,000,000
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
        )
    assert error.value.code == "no_authority"
    assert "EUR 1,000,000.00" in error.value.message
    assert "EUR 1,200,000.00 at stake" in error.value.message
    with pytest.raises(DomainError, match="approver role"):
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Tom Richter"]
        )
    assert _state(demand) == before


def test_refused_approval_for_a_suspended_customer(internal_demand, users, contacts, customers):
    demand = challenged(internal_demand(), users, choose_requested=False)
    parties.change_customer_status(
        actor=users["manager"],
        customer=customers["rnd"],
        to_status="suspended",
        reason="illegal_use",  # non-payment needs an overdue invoice (R16)
    )
    before = _state(demand)
    with pytest.raises(DomainError) as error:
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
        )
    assert error.value.code == "customer_not_active"
    assert _state(demand) == before


def test_internal_request_is_not_checked_as_external(internal_demand, users):
    with pytest.raises(DomainError) as error:
        services.record_external_check(
            actor=users["manager"],
            demand=internal_demand(),
            legal=True,
            feasible=True,
            quoted_price=D("1"),
            estimated_cost=D("1"),
        )
    assert error.value.code == "wrong_check"


def test_approval_reserves_capacity_and_refuses_when_exhausted(
    internal_demand, users, contacts, pool
):
    demand = challenged(internal_demand(), users, choose_requested=False)
    left = pool.capacity - services.reserved_in(pool)
    services.set_capacity_need(actor=users["manager"], demand=demand, pool=pool, quantity=left + 1)
    before = _state(demand)
    with pytest.raises(DomainError) as error:
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
        )
    assert error.value.code == "capacity_exhausted"
    assert _state(demand) == before
    services.set_capacity_need(actor=users["manager"], demand=demand, pool=pool, quantity=left)
    services.approve_demand(
        actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
    )
    assert services.reserved_in(pool) == pool.capacity


def test_approved_new_service_becomes_a_design_with_the_customer(internal_demand, users, contacts):
    demand = challenged(internal_demand(), users, choose_requested=False)
    demand = services.approve_demand(
        actor=users["manager"], demand=demand, approver=contacts["Dr. Lena Novak"]
    )
    assert demand.design_service.status == "pipeline"
    assert demand.customer_joins_design is True  # internal customers take part in design


# --- external: legal, possible, profitable ------------------------------------------------------


def test_external_request_is_not_challenged(external_demand, users):
    demand = external_demand()
    assert not demand.alternatives.exists()
    with pytest.raises(DomainError) as error:
        services.record_business_case(
            actor=users["manager"],
            demand=demand,
            expected_business_outcomes="x",
            yearly_net_benefit=D("1"),
        )
    assert error.value.code == "no_customer_roi"
    with pytest.raises(DomainError) as error:
        services.add_alternative(actor=users["manager"], demand=demand, name="x", cost=D("1"))
    assert error.value.code == "wrong_check"
    assert not Alternative.objects.filter(demand=demand).exists()


def test_legal_possible_profitable_request_is_accepted(external_demand, users, contacts):
    demand = external_demand()
    check = services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=True,
        feasible=True,
        quoted_price=D("110000"),
        estimated_cost=D("100000"),
    )
    assert check.profitable and check.minimum_margin == D("0.10")
    demand = services.approve_demand(
        actor=users["manager"], demand=demand, approver=contacts["Wei Ling Tan"]
    )
    assert demand.status == "approved"
    assert demand.customer_joins_design is True  # demand-based positioning


def test_refused_unprofitable_request(external_demand, users, contacts):
    demand = external_demand()
    check = services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=True,
        feasible=True,
        quoted_price=D("109999.99"),
        estimated_cost=D("100000"),
    )
    assert not check.profitable
    before = _state(demand)
    with pytest.raises(DomainError) as error:
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Wei Ling Tan"]
        )
    assert error.value.code == "not_profitable"
    assert "cost" in error.value.message  # provider staff only: the API hides nothing here
    assert _state(demand) == before


def test_illegal_request_is_refused_and_can_suspend_the_customer(external_demand, users, customers):
    demand = external_demand()
    services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=False,
        legal_note="Would host unlicensed passenger data",
        feasible=True,
        quoted_price=D("1"),
        estimated_cost=D("1"),
        suspend_customer=True,
    )
    demand.refresh_from_db()
    assert demand.status == "rejected" and demand.rejection_reason == "illegal_request"
    pacific = customers["pacific"]
    pacific.refresh_from_db()
    assert pacific.status == "suspended" and pacific.status_reason == "illegal_request"
    assert pacific.events.filter(reason="illegal_request").exists()


def test_illegal_request_without_suspension(external_demand, users, customers):
    demand = external_demand()
    services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=False,
        feasible=True,
        quoted_price=D("1"),
        estimated_cost=D("1"),
    )
    demand.refresh_from_db()
    assert demand.status == "rejected"
    customers["pacific"].refresh_from_db()
    assert customers["pacific"].status == "active"


def test_impossible_request_is_refused(external_demand, users):
    demand = external_demand()
    services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=True,
        feasible=False,
        quoted_price=D("1"),
        estimated_cost=D("1"),
    )
    demand.refresh_from_db()
    assert demand.status == "rejected" and demand.rejection_reason == "not_feasible"


def test_external_bespoke_design_is_not_joined(external_demand, users, contacts):
    demand = external_demand()
    demand.positioning = "bespoke"
    demand.save()
    services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=True,
        feasible=True,
        quoted_price=D("100"),
        estimated_cost=D("10"),
    )
    demand = services.approve_demand(
        actor=users["manager"], demand=demand, approver=contacts["Wei Ling Tan"]
    )
    assert demand.customer_joins_design is False
    assert Service.objects.filter(pk=demand.design_service_id, status="pipeline").exists()


def test_customer_users_cannot_decide(internal_demand, users, contacts):
    demand = internal_demand()
    for role in ("internal", "external", "finance", "change"):
        with pytest.raises(PermissionDenied):
            services.approve_demand(
                actor=users[role], demand=demand, approver=contacts["Dr. Lena Novak"]
            )


def test_demo_story_secure_data_centre(db):
    demand = DemandRequest.objects.get(title="Secure data centre for confidential research")
    assert demand.status == "approved"
    assert demand.justified_by.username == "senior"
    assert services.difference_percent(demand) == D("25.00")
    assert list(demand.events.values_list("to_state", flat=True)).count("held") == 1
