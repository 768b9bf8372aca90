"""Demand pages: the secure data centre story, the justification form, capacity, disclosure."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook.demand import services
from servicebook.demand.models import DemandRequest
from tests.demand.conftest import challenged

ROLES = ["admin", "manager", "finance", "change", "senior", "internal", "external"]


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_for_every_role(users, web_for, role):
    client = web_for(users[role])
    assert client.get(reverse("demand:list")).status_code == 200
    for demand in DemandRequest.objects.visible_to(users[role]):
        assert client.get(reverse("demand:detail", args=[demand.pk])).status_code == 200
    capacity = client.get(reverse("demand:capacity")).status_code
    assert capacity == (403 if role in ("internal", "external") else 200)


def test_demo_story_shows_the_difference_and_who_justified(users, web_for):
    demand = DemandRequest.objects.get(title="Secure data centre for confidential research")
    page = web_for(users["manager"]).get(reverse("demand:detail", args=[demand.pk]))
    text = page.content.decode()
    assert "25.00%" in text and "Sofia Senior" in text
    assert "held" in text  # the held state is in the history


def test_held_demand_is_justified_by_a_senior_manager_on_the_web(internal_demand, users, web_for):
    demand = challenged(internal_demand(), users)
    url = reverse("demand:step", args=[demand.pk, "justify"])
    for role in ("manager", "admin"):  # neither a manager nor the IT admin justifies
        page = web_for(users[role]).get(reverse("demand:detail", args=[demand.pk]))
        assert 'data-testid="held"' in page.content.decode()
        assert 'data-testid="justify"' not in page.content.decode()
        assert web_for(users[role]).post(url, {"justification": "x"}).status_code == 403
    demand.refresh_from_db()
    assert demand.status == "held" and demand.justified_at is None
    senior = web_for(users["senior"])
    page = senior.get(reverse("demand:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="justify"' in page and senior.get(url).status_code == 200
    response = senior.post(url, {"justification": "Board minute 7"})
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.justified_by == users["senior"] and demand.status == "assessment"


def test_approve_form_shows_the_refusal(internal_demand, users, web_for, contacts):
    demand = challenged(internal_demand(), users)
    response = web_for(users["manager"]).post(
        reverse("demand:step", args=[demand.pk, "approve"]),
        {"approver": contacts["Dr. Lena Novak"].pk},
    )
    assert response.status_code == 200 and "senior-management justification" in (
        response.content.decode()
    )
    demand.refresh_from_db()
    assert demand.status == "held"


def test_customer_user_requests_on_the_web(users, web_for, customers):
    response = web_for(users["internal"]).post(
        reverse("demand:create"),
        {
            "customer": customers["marketing"].pk,
            "title": "Event app",
            "kind": "new_service",
            "expected_outcomes": "Run events",
            "required_investment": "5000",
            "positioning": "bespoke",
            "requirements": "Works offline\nSSO",
            "objectives": [o.pk for o in customers["marketing"].objectives.all()],
            "how": "Events sell more",
        },
    )
    assert response.status_code == 302
    demand = DemandRequest.objects.get(title="Event app")
    assert demand.requester.name == "Clara Dupont" and demand.requirements.count() == 2


def test_external_demand_page_hides_cost(users, web_for, customers, contacts):
    demand = services.create_demand(
        actor=users["external"],
        customer=customers["skybridge"],
        title="Crew app",
        expected_outcomes="x",
        required_investment=D("1000"),
    )
    services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=True,
        feasible=True,
        quoted_price=D("1000"),
        estimated_cost=D("990"),
    )
    page = web_for(users["external"]).get(reverse("demand:detail", args=[demand.pk]))
    text = page.content.decode()
    assert "990" not in text and "Estimated cost" not in text and "margin" not in text.lower()
    staff = web_for(users["manager"]).get(reverse("demand:detail", args=[demand.pk]))
    assert "Estimated cost" in staff.content.decode()


def test_capacity_page_orders_by_business_value(users, web_for):
    text = web_for(users["finance"]).get(reverse("demand:capacity")).content.decode()
    assert "R&amp;D Lab" in text and "Human Resources" in text and "Marketing" in text
    assert "Funded by external revenue" in text


def test_demand_margin_is_for_finance_and_the_admin(users, web_for, client_for, customers):
    """Cost is staff's; the minimum margin and profitability are finance's and the admin's only
    (policy.user_may_see_margin), on the page and in the API (issue 12)."""
    demand = services.create_demand(
        actor=users["external"],
        customer=customers["skybridge"],
        title="Crew app",
        expected_outcomes="x",
        required_investment=D("1000"),
    )
    services.record_external_check(
        actor=users["manager"],
        demand=demand,
        legal=True,
        feasible=True,
        quoted_price=D("1000"),
        estimated_cost=D("990"),
    )
    for role in ("manager", "change", "finance", "admin"):
        text = web_for(users[role]).get(reverse("demand:detail", args=[demand.pk])).content
        text = text.decode()
        body = client_for(users[role]).get("/api/demands/").json()
        row = next(r for r in body["results"] if r["id"] == demand.pk)
        sees_margin = role in ("finance", "admin")
        assert "Estimated cost" in text
        assert ("minimum margin" in text) is sees_margin, role
        assert row["external_check"]["estimated_cost"] == "990.00"
        assert ("minimum_margin" in row["external_check"]) is sees_margin, role
        assert ("profitable" in row["external_check"]) is sees_margin, role
