"""An internal request names the objectives it serves; the provider may refuse one that works
against the organization's objectives or profitability, as it refuses an illegal one (R9)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.demand import services, strategy
from servicebook.demand.models import DemandRequest
from servicebook.parties.models import Objective

ASK = {"title": "Own mail server", "expected_outcomes": "x", "required_investment": D("1000")}


def test_an_internal_request_must_name_an_objective(users, customers):
    count = DemandRequest.objects.count()
    with pytest.raises(ValidationError) as error:
        services.create_demand(actor=users["internal"], customer=customers["marketing"], **ASK)
    assert "at least one organization objective" in str(error.value.message_dict["objectives"])
    assert DemandRequest.objects.count() == count


def test_only_the_customers_own_objectives(users, customers, research):
    with pytest.raises(ValidationError, match="not an objective Marketing shares"):
        services.create_demand(
            actor=users["internal"], customer=customers["marketing"], objectives=[research], **ASK
        )


def test_an_external_request_names_no_objective(users, customers, growth):
    with pytest.raises(DomainError) as error:
        services.create_demand(
            actor=users["external"], customer=customers["skybridge"], objectives=[growth], **ASK
        )
    assert error.value.code == "objectives_not_shared"
    demand = services.create_demand(actor=users["external"], customer=customers["skybridge"], **ASK)
    assert not demand.objectives.exists()


def test_objectives_named_with_how_and_the_last_one_kept(users, customers, growth):
    demand = services.create_demand(
        actor=users["internal"],
        customer=customers["marketing"],
        objectives=[(growth, "  more online sales  ")],
        **ASK,
    )
    assert demand.objective_links.get().how == "more online sales"
    with pytest.raises(ValidationError, match="at least one objective"):
        strategy.drop_objective(actor=users["manager"], demand=demand, objective=growth)
    cost = Objective.objects.get(title__startswith="Cut the cost")
    cost.customers.add(customers["marketing"])
    strategy.serve_objective(
        actor=users["manager"], demand=demand, objective=cost, how="fewer tools"
    )
    strategy.drop_objective(actor=users["manager"], demand=demand, objective=growth)
    assert list(demand.objectives.all()) == [cost]


def _internal(users, customers, growth):
    return services.create_demand(
        actor=users["internal"], customer=customers["marketing"], objectives=[growth], **ASK
    )


def test_internal_request_refused_against_the_objectives(users, customers, growth, web_for):
    demand = _internal(users, customers, growth)
    with pytest.raises(ValidationError, match="the customer reads it"):
        strategy.refuse_demand(
            actor=users["manager"], demand=demand, ground="against_objectives", reason=" "
        )
    with pytest.raises(PermissionDenied):
        strategy.refuse_demand(
            actor=users["finance"], demand=demand, ground="against_objectives", reason="x"
        )
    strategy.refuse_demand(
        actor=users["manager"],
        demand=demand,
        ground="against_objectives",
        reason="A second mail system splits customer data the group is consolidating.",
    )
    demand.refresh_from_db()
    assert demand.status == "rejected" and demand.rejection_reason == "against_objectives"
    event = demand.events.get(action="refused")
    assert event.reason == "against_objectives" and "splits customer data" in event.note
    page = web_for(users["internal"]).get(reverse("demand:detail", args=[demand.pk]))
    text = page.content.decode()
    assert "works against the organization" in text and "splits customer data" in text


def test_internal_request_refused_against_profitability(users, customers, growth):
    demand = _internal(users, customers, growth)
    strategy.refuse_demand(
        actor=users["manager"], demand=demand, ground="against_profitability", reason="Loses money"
    )
    demand.refresh_from_db()
    assert demand.rejection_reason == "against_profitability"


def test_an_external_request_is_not_refused_for_the_organizations_objectives(users, customers):
    demand = services.create_demand(actor=users["external"], customer=customers["skybridge"], **ASK)
    with pytest.raises(DomainError) as error:
        strategy.refuse_demand(
            actor=users["manager"], demand=demand, ground="against_objectives", reason="x"
        )
    assert error.value.code == "refusal_ground"
    strategy.refuse_demand(
        actor=users["manager"], demand=demand, ground="illegal_request", reason="Sanctions"
    )
    demand.refresh_from_db()
    assert demand.rejection_reason == "illegal_request"


def test_refusal_through_the_api(users, customers, growth, client_for):
    demand = _internal(users, customers, growth)
    url = reverse("demandrequest-refuse", args=[demand.pk])
    body = {"ground": "against_profitability", "reason": "It costs more than it brings"}
    assert client_for(users["internal"]).post(url, body, format="json").status_code == 403
    answer = client_for(users["manager"]).post(url, body, format="json").json()
    assert answer["status"] == "rejected" and answer["rejection_reason"] == "against_profitability"
    seen = client_for(users["internal"]).get(reverse("demandrequest-detail", args=[demand.pk]))
    assert seen.json()["objectives"][0]["objective"] == growth.pk


def test_create_through_the_api_needs_an_objective(users, customers, growth, client_for):
    url = reverse("demandrequest-list")
    base = {"customer": customers["marketing"].pk, "title": "x", "expected_outcomes": "y"}
    base["required_investment"] = "10.00"
    client = client_for(users["internal"])
    refused = client.post(url, base, format="json")
    assert refused.status_code == 400 and "objectives" in refused.json()
    made = client.post(
        url, {**base, "objectives": [{"objective": growth.pk, "how": "sales"}]}, format="json"
    )
    assert made.status_code == 201 and made.json()["objectives"][0]["how"] == "sales"
