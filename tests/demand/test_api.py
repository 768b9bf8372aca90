"""R18/R17/R16 through the API: both checks, every refusal, scoping and cost disclosure."""

from __future__ import annotations

import json

from django.urls import reverse

from servicebook.demand.models import DemandRequest
from servicebook.parties import services as parties
from tests.demand.conftest import REQUIREMENTS


def _post(client, name, pk=None, data=None):
    url = reverse(name, args=[pk] if pk is not None else [])
    return client.post(url, data or {}, format="json")


def _internal_request(client_for, users, customers, investment="800000.00"):
    response = client_for(users["manager"]).post(
        reverse("demandrequest-list"),
        {
            "customer": customers["rnd"].pk,
            "requester": customers["rnd"].contacts.get(name="Dr. Lena Novak").pk,
            "title": "Secure room",
            "expected_outcomes": "Confidential research",
            "required_investment": investment,
            "requirements": REQUIREMENTS,
            "objectives": [
                {"objective": o.pk, "how": "on premises"} for o in customers["rnd"].objectives.all()
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_internal_challenge_through_the_api(users, client_for, customers, contacts):
    body = _internal_request(client_for, users, customers)
    pk = body["id"]
    assert body["check"] == "challenge"
    manager = client_for(users["manager"])
    case = _post(
        manager,
        "demandrequest-business-case",
        pk,
        {"expected_business_outcomes": "x", "yearly_net_benefit": "180000", "years": 7},
    ).json()["business_case"]
    assert case["npv"] == "137146.61" and case["payback_years"] == "4.44"
    requirement_ids = [r["id"] for r in body["requirements"]]
    after = _post(
        manager,
        "demandrequest-alternatives",
        pk,
        {"name": "Frankfurt", "cost": "600000", "meets": requirement_ids},
    ).json()
    requested = next(a for a in after["alternatives"] if a["is_requested"])
    held = _post(manager, "demandrequest-choose", pk, {"alternative": requested["id"]}).json()
    assert held["status"] == "held" and held["cheaper_by_percent"] == "25.00"
    lena = contacts["Dr. Lena Novak"].pk
    refused = _post(manager, "demandrequest-approve", pk, {"approver": lena})
    assert refused.status_code == 400 and refused.json()["code"] == "justification_required"
    assert DemandRequest.objects.get(pk=pk).status == "held"
    assert _post(manager, "demandrequest-justify", pk, {"justification": "x"}).status_code == 403
    admin = client_for(users["admin"])  # the IT admin is not senior management (R18)
    assert _post(admin, "demandrequest-justify", pk, {"justification": "x"}).status_code == 403
    assert DemandRequest.objects.get(pk=pk).justified_at is None
    justified = _post(
        client_for(users["senior"]), "demandrequest-justify", pk, {"justification": "Board says so"}
    ).json()
    assert justified["justified_by_name"] == "Sofia Senior" and justified["status"] == "assessment"
    assert justified["justified_for"] == "costlier_option"
    approved = _post(manager, "demandrequest-approve", pk, {"approver": lena}).json()
    assert approved["status"] == "approved" and approved["customer_joins_design"] is True


def test_refusal_no_authority_api(users, client_for, customers, contacts):
    pk = _internal_request(client_for, users, customers)["id"]
    response = _post(
        client_for(users["manager"]),
        "demandrequest-approve",
        pk,
        {"approver": contacts["Tom Richter"].pk},
    )
    assert response.status_code == 400
    # the policy check comes first: no business case yet
    assert response.json()["code"] == "no_business_case"
    demand = DemandRequest.objects.get(pk=pk)
    from servicebook.demand import services

    services.record_business_case(
        actor=users["manager"],
        demand=demand,
        expected_business_outcomes="x",
        yearly_net_benefit=1000000,  # a positive NPV: no justification needed (R18)
        years=1,
    )
    services.add_alternative(actor=users["manager"], demand=demand, name="B", cost=700000)
    services.choose_alternative(
        actor=users["manager"], demand=demand, alternative=demand.alternatives.get(name="B")
    )
    response = _post(
        client_for(users["manager"]),
        "demandrequest-approve",
        pk,
        {"approver": contacts["Tom Richter"].pk},
    )
    assert response.status_code == 400 and response.json()["code"] == "no_authority"
    assert DemandRequest.objects.get(pk=pk).status == "assessment"


def test_refusal_suspended_customer_api(users, client_for, customers):
    parties.change_customer_status(
        actor=users["manager"],
        customer=customers["marketing"],
        to_status="suspended",
        reason="illegal_use",  # non-payment needs an overdue invoice (R16)
    )
    count = DemandRequest.objects.count()
    response = client_for(users["internal"]).post(
        reverse("demandrequest-list"),
        {
            "customer": customers["marketing"].pk,
            "title": "x",
            "expected_outcomes": "y",
            "required_investment": "1.00",
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "customer_not_active"
    assert DemandRequest.objects.count() == count


def _external_request(client_for, users, customers):
    response = client_for(users["external"]).post(
        reverse("demandrequest-list"),
        {
            "customer": customers["skybridge"].pk,
            "title": "Crew rostering hosting",
            "expected_outcomes": "Rosters in minutes",
            "required_investment": "100000.00",
            "requirements": ["EU hosting"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_external_check_through_the_api(users, client_for, customers, contacts):
    body = _external_request(client_for, users, customers)
    assert body["check"] == "legal_possible_profitable" and body["alternatives"] == []
    assert body["requester_name"] == "Marc Lefèvre"
    manager = client_for(users["manager"])
    pk = body["id"]
    roi = _post(
        manager,
        "demandrequest-business-case",
        pk,
        {"expected_business_outcomes": "x", "yearly_net_benefit": "1"},
    )
    assert roi.status_code == 400 and roi.json()["code"] == "no_customer_roi"
    check = {"legal": True, "feasible": True, "quoted_price": "100000", "estimated_cost": "95000"}
    _post(manager, "demandrequest-external-check", pk, check)
    marc = contacts["Marc Lefèvre"].pk
    refused = _post(manager, "demandrequest-approve", pk, {"approver": marc})
    assert refused.status_code == 400 and refused.json()["code"] == "not_profitable"
    external_view = client_for(users["external"]).get(reverse("demandrequest-detail", args=[pk]))
    text = json.dumps(external_view.json()).lower()
    assert "cost" not in text and "margin" not in text
    assert "profitable" not in external_view.json()["external_check"]
    check["quoted_price"] = "110000"
    _post(manager, "demandrequest-external-check", pk, check)
    approved = _post(manager, "demandrequest-approve", pk, {"approver": marc}).json()
    assert approved["status"] == "approved" and approved["customer_joins_design"] is False


def test_refusal_illegal_request_api(users, client_for, customers):
    pk = _external_request(client_for, users, customers)["id"]
    body = _post(
        client_for(users["manager"]),
        "demandrequest-external-check",
        pk,
        {
            "legal": False,
            "legal_note": "Export-controlled",
            "feasible": True,
            "quoted_price": "1",
            "estimated_cost": "1",
            "suspend_customer": True,
        },
    ).json()
    assert body["status"] == "rejected" and body["rejection_reason"] == "illegal_request"
    customers["skybridge"].refresh_from_db()
    assert customers["skybridge"].status == "suspended"


def test_customer_users_cannot_decide_or_see_pools(users, client_for, customers, contacts):
    pk = _external_request(client_for, users, customers)["id"]
    ext = client_for(users["external"])
    response = _post(ext, "demandrequest-approve", pk, {"approver": contacts["Marc Lefèvre"].pk})
    assert response.status_code == 403
    for role in ("internal", "external"):
        client = client_for(users[role])
        assert client.get(reverse("capacitypool-list")).json()["results"] == []
        assert client.get(reverse("capacitypool-competition")).json() == []
    other = client_for(users["internal"]).get(reverse("demandrequest-detail", args=[pk]))
    assert other.status_code == 404


def test_capacity_competition_for_staff(users, client_for):
    rows = client_for(users["finance"]).get(reverse("capacitypool-competition")).json()
    engineering = next(r for r in rows if r["name"] == "Infrastructure engineering")
    names = [c["customer_name"] for c in engineering["competitors"]]
    assert set(names) == {"R&D Lab", "Marketing", "Human Resources"}
    values = [c["best_value_per_unit"] for c in engineering["competitors"]]
    numeric = [float(v) for v in values if v is not None]
    assert numeric == sorted(numeric, reverse=True)  # by business value, not by who asked first
    rnd = next(c for c in engineering["competitors"] if c["customer_name"] == "R&D Lab")
    assert rnd["reserved"] == "1200.00" and rnd["budget_per_period"] == "40000.00"
    assert rnd["monthly_cost"] not in (None, "0")


def test_external_user_never_sees_cost_or_margin(users, client_for, customers):
    _external_request(client_for, users, customers)
    client = client_for(users["external"])
    for basename in ("demandrequest", "capacitypool"):
        listing = client.get(reverse(f"{basename}-list")).json()
        bodies = [listing] + [
            client.get(reverse(f"{basename}-detail", args=[row["id"]])).json()
            for row in listing["results"]
        ]
        for body in bodies:
            text = json.dumps(body).lower()
            assert "cost" not in text and "margin" not in text
