"""R18 holes of issue 12: a negative NPV needs a senior-management justification, only a senior
manager (not the IT admin) records it, and the chosen option's cost drives the business case."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.roles import ROLE_DESCRIPTIONS, Role
from servicebook.demand import services
from servicebook.demand.models import BusinessCase, DemandEvent, DemandRequest
from tests.demand.conftest import challenged


def _onboarding(users, customers, contacts):
    """The HR portal of the report: EUR 120,000 for 30,000 a year over 5 years at 8%."""
    demand = services.create_demand(
        actor=users["manager"],
        customer=customers["hr"],
        requester=contacts["Amira Haddad"],
        title="Onboarding portal",
        expected_outcomes="Productive on day one",
        required_investment=D("120000"),
        requirements=["Single sign-on"],
        objectives=customers["hr"].objectives.all(),
    )
    services.record_business_case(
        actor=users["manager"],
        demand=demand,
        expected_business_outcomes="Two days saved per joiner",
        yearly_net_benefit=D("30000"),
        years=5,
    )
    services.add_alternative(
        actor=users["manager"],
        demand=demand,
        name="Vendor portal",
        cost=D("150000"),
        meets=list(demand.requirements.all()),
    )
    demand.refresh_from_db()
    return demand


def _state(demand):
    demand.refresh_from_db()
    return (demand.status, demand.justified_at, demand.approved_by_contact_id)


def test_senior_manager_is_a_role_of_its_own_with_a_description(users):
    assert Role.SENIOR_MANAGER == "senior_manager" and ROLE_DESCRIPTIONS[Role.SENIOR_MANAGER]
    senior = users["senior"]
    assert list(senior.groups.values_list("name", flat=True)) == ["senior_manager"]
    assert not senior.is_superuser and senior.check_password("servicebook-demo")
    assert services.may_justify(senior)
    assert not services.may_justify(users["admin"])  # a superuser, but not senior management


def test_negative_npv_holds_an_internal_request_until_justified(users, customers, contacts):
    demand = _onboarding(users, customers, contacts)
    assert demand.business_case.npv == D("-218.70")
    assert demand.status == "held"
    held = demand.events.get(to_state="held")
    assert held.reason == "negative_npv" and "-218.70" in held.note.replace("−", "-")
    services.choose_alternative(
        actor=users["manager"],
        demand=demand,
        alternative=demand.alternatives.get(is_requested=True),
    )
    before = _state(demand)
    events = DemandEvent.objects.filter(demand=demand).count()
    with pytest.raises(DomainError) as error:
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Amira Haddad"]
        )
    assert error.value.code == "justification_required" and "NPV" in error.value.message
    for role in ("manager", "admin", "finance"):
        with pytest.raises(PermissionDenied):
            services.record_justification(actor=users[role], demand=demand, justification="x")
    assert _state(demand) == before
    assert DemandEvent.objects.filter(demand=demand).count() == events
    services.record_justification(
        actor=users["senior"], demand=demand, justification="Onboarding is a board priority"
    )
    demand.refresh_from_db()
    assert demand.status == "assessment" and demand.justified_for == "negative_npv"
    assert services.approval_blockers(demand) == []
    with pytest.raises(DomainError) as error:  # now only Amira's own limit stands in the way
        services.approve_demand(
            actor=users["manager"], demand=demand, approver=contacts["Amira Haddad"]
        )
    assert error.value.code == "no_authority"


def test_a_reason_arising_after_the_justification_needs_a_new_one(internal_demand, users):
    demand = challenged(internal_demand(), users)  # costlier Munich chosen: held
    services.record_justification(actor=users["senior"], demand=demand, justification="Board")
    demand.refresh_from_db()
    assert demand.status == "assessment" and demand.justified_for == "costlier_option"
    services.record_business_case(  # the benefit is revised down: NPV now negative
        actor=users["manager"],
        demand=demand,
        expected_business_outcomes="One contract a year",
        yearly_net_benefit=D("50000"),
        years=7,
    )
    demand.refresh_from_db()
    assert demand.business_case.npv < 0
    assert demand.status == "held"
    assert [code for code, _ in services.unjustified_reasons(demand)] == ["negative_npv"]
    services.record_justification(actor=users["senior"], demand=demand, justification="Still")
    demand.refresh_from_db()
    assert demand.status == "assessment"
    assert demand.justified_for == "negative_npv,costlier_option"


def test_external_request_never_needs_a_justification(external_demand, users):
    demand = external_demand()
    assert services.justification_reasons(demand) == []
    with pytest.raises(DomainError) as error:
        services.record_justification(actor=users["senior"], demand=demand, justification="x")
    assert error.value.code == "not_held"


def test_demo_onboarding_portal_with_a_negative_npv_is_held(db):
    demand = DemandRequest.objects.get(title="Self-service onboarding portal")
    assert demand.business_case.npv == D("-218.70") and demand.status == "held"
    assert [code for code, _ in services.approval_blockers(demand)][-1] == (
        "justification_required"
    )


# --- item 2: the chosen option drives the figures -------------------------------------------------


def test_choosing_a_cheaper_option_refigures_the_business_case(internal_demand, users):
    demand = challenged(internal_demand(), users, choose_requested=False)  # Frankfurt 600,000
    case = BusinessCase.objects.get(demand=demand)
    assert demand.investment == D("600000") and case.investment == D("600000")
    # 137,146.61 on 800,000: 200,000 less invested is 200,000 more NPV
    assert case.npv == D("337146.61")
    assert case.payback_years == D("3.33") and case.roi_percent == D("110.00")
    assert "refigured" in demand.events.filter(action="business_case").last().note
    services.choose_alternative(
        actor=users["manager"],
        demand=demand,
        alternative=demand.alternatives.get(is_requested=True),
    )
    case.refresh_from_db()
    assert case.investment == D("800000") and case.npv == D("137146.61")


def test_page_and_api_show_the_chosen_option_investment(
    internal_demand, users, web_for, client_for
):
    demand = challenged(internal_demand(), users, choose_requested=False)
    page = web_for(users["manager"]).get(reverse("demand:detail", args=[demand.pk]))
    text = page.content.decode()
    assert 'data-testid="investment">EUR 600,000.00' in text.replace("\u00a0", " ")
    assert "Required investment" not in text
    assert 'data-testid="npv">EUR 337,146.61' in text.replace("\u00a0", " ")
    body = client_for(users["manager"]).get(f"/api/demands/{demand.pk}/").json()
    assert body["investment"] == "600000.00" and body["required_investment"] == "800000.00"
    assert body["business_case"]["investment"] == "600000.00"
    assert body["business_case"]["npv"] == "337146.61"
