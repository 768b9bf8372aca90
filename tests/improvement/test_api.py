"""The improvement API: scoping, what each kind of customer receives (R7, R14), the workflow and
the policy branches over HTTP, health, review packs and the dashboard."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from servicebook.improvement.api import RESULT_FIELDS
from servicebook.improvement.models import Improvement
from servicebook.parties.models import Customer

SECRET_KEYS = ("cost", "margin", "profitab", "internal_notes")


def _walk_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


def _leaks(body) -> set[str]:
    keys = {key.lower() for key in _walk_keys(body)}
    return {key for key in keys if any(secret in key for secret in SECRET_KEYS)}


def _bodies(client):
    """Every list and detail of this app an external customer user can reach."""
    for basename in ("improvement", "improvementaction", "servicereview", "reviewpack"):
        response = client.get(reverse(f"{basename}-list"))
        assert response.status_code == 200, basename
        yield response.json()
        for row in response.json()["results"]:
            detail = client.get(reverse(f"{basename}-detail", args=[row["id"]]))
            assert detail.status_code == 200
            yield detail.json()
    for row in client.get(reverse("improvement-list")).json()["results"]:
        yield client.get(reverse("improvement-history", args=[row["id"]])).json()
    item = client.get(reverse("improvement-list")).json()["results"][0]["id"]
    yield client.post(reverse("improvement-verify", args=[item]), {"measured_value": "x"}).json()
    yield client.post(reverse("improvement-approve", args=[item]), {}).json()


def test_external_user_never_receives_cost_margin_or_internal_fields(users, client_for):
    client = client_for(users["external"])
    seen = 0
    for body in _bodies(client):
        seen += 1
        assert not _leaks(body), f"secret field in a response to an external user: {_leaks(body)}"
        text = json.dumps(body).lower()
        for secret in ("funded from", "margin stays above", "second storage array"):
            assert secret not in text
    assert seen > 8


def test_external_user_sees_expected_results_and_progress_only(users, client_for, items):
    rows = client_for(users["external"]).get(reverse("improvement-list")).json()["results"]
    assert {row["id"] for row in rows} == {items["tiers"].pk, items["frankfurt"].pk}
    for row in rows:
        assert row["view"] == "results"
        assert set(row) <= set(RESULT_FIELDS)
        assert "actions" not in row and "description" not in row and "driver" not in row
    frankfurt = next(r for r in rows if r["id"] == items["frankfurt"].pk)
    assert frankfurt["expected_value"] == "100.000"
    assert frankfurt["progress"] == {
        "status": "in_progress",
        "actions_total": 2,
        "actions_done": 1,
        "percent": 50,
    }
    tiers = next(r for r in rows if r["id"] == items["tiers"].pk)
    assert tiers["measured_value"] == "0.074" and tiers["result_met"] is True
    actions = client_for(users["external"]).get(reverse("improvementaction-list")).json()
    assert actions["results"] == []
    own_action = items["frankfurt"].actions.first()
    url = reverse("improvementaction-detail", args=[own_action.pk])
    assert client_for(users["external"]).get(url).status_code == 404


def test_internal_user_sees_the_detail_and_cost_but_not_margin(users, client_for, items):
    client = client_for(users["internal"])
    rows = client.get(reverse("improvement-list")).json()["results"]
    parity_item = Improvement.objects.get(source="service_parity")  # concerns every internal one
    assert {row["id"] for row in rows} == {items["launch"].pk, items["breach"].pk, parity_item.pk}
    launch = client.get(reverse("improvement-detail", args=[items["launch"].pk])).json()
    assert launch["view"] == "detail"
    assert launch["estimated_cost"] == "6000.00"  # internal customers may see cost (R7)
    assert "internal_notes" not in launch and "customer_profitability" not in launch
    assert [a["owner_name"] for a in launch["actions"]] == ["Clara Dupont", "Maya Manager"]
    assert launch["actions"][0]["comments"][0]["body"].startswith("The calendar")
    assert launch["objective_title"].startswith("Grow digital revenue")


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_finance_and_admin_see_everything(users, client_for, items, role):
    body = client_for(users[role]).get(reverse("improvement-detail", args=[items["tiers"].pk]))
    data = body.json()
    assert data["view"] == "full"
    assert data["customer_profitability"] is not None and data["internal_notes"]
    assert data["estimated_cost"] == "1500.00"


def test_the_service_manager_sees_cost_not_margin(users, client_for, items):
    """Margins are finance's and the provider admin's (policy.user_may_see_margin)."""
    url = reverse("improvement-detail", args=[items["tiers"].pk])
    data = client_for(users["manager"]).get(url).json()
    assert data["view"] == "full"
    assert data["estimated_cost"] == "1500.00"
    assert "customer_profitability" not in data and "internal_notes" not in data


@pytest.mark.parametrize("role", ["internal", "external"])
def test_another_customers_item_is_a_404(users, client_for, items, role):
    client = client_for(users[role])
    for key in ("resets", "meridian", "pacific"):
        assert client.get(reverse("improvement-detail", args=[items[key].pk])).status_code == 404
        url = reverse("improvement-approve", args=[items[key].pk])
        assert client.post(url, {}).status_code == 404


def test_register_and_run_an_internal_plan_over_the_api(users, client_for, customers, contacts):
    manager = client_for(users["manager"])
    payload = {
        "customer": customers["marketing"].pk,
        "title": "Faster laptop swaps",
        "source": "customer_request",
        "driver": "retention",
        "expected_measure": "Laptops swapped within 1 day (%)",
        "expected_value": "90",
        "expected_by": "2027-02-28",
    }
    before = Improvement.objects.count()
    refused = manager.post(reverse("improvement-list"), payload, format="json")
    assert refused.status_code == 400 and "driver" in refused.json()
    assert Improvement.objects.count() == before
    created = manager.post(
        reverse("improvement-list"), {**payload, "driver": "business_impact"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == "proposed"
    assert created.json()["missing_approvals"] == ["Marketing"]
    action = manager.post(
        reverse("improvementaction-list"),
        {
            "improvement": pk,
            "description": "Stock 5 spare laptops",
            "owner_user": users["manager"].pk,
        },
        format="json",
    )
    assert action.status_code == 201, action.content
    assert manager.post(reverse("improvement-approve", args=[pk]), {}).status_code == 400
    clara = client_for(users["internal"])
    comment = clara.post(
        reverse("improvementaction-comment", args=[action.json()["id"]]), {"body": "Thanks"}
    )
    assert comment.status_code == 200 and comment.json()["comments"][0]["body"] == "Thanks"
    approved = clara.post(reverse("improvement-approve", args=[pk]), {"note": "yes"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert manager.post(reverse("improvement-start", args=[pk])).json()["status"] == "in_progress"
    assert manager.post(reverse("improvement-complete", args=[pk])).status_code == 400
    done = manager.post(reverse("improvementaction-done", args=[action.json()["id"]]))
    assert done.json()["done"] is True
    assert manager.post(reverse("improvement-complete", args=[pk])).json()["status"] == "done"
    verified = manager.post(
        reverse("improvement-verify", args=[pk]),
        {"measured_value": "85", "measured_on": "2027-03-01"},
    )
    assert verified.json()["status"] == "verified" and verified.json()["result_met"] is False
    history = clara.get(reverse("improvement-history", args=[pk])).json()
    assert [e["to_state"] for e in history if e["to_state"]] == [
        "proposed",
        "approved",
        "in_progress",
        "done",
        "verified",
    ]


def test_customer_users_cannot_write_the_register(users, client_for, customers, items):
    for role in ("internal", "external"):
        client = client_for(users[role])
        response = client.post(
            reverse("improvement-list"),
            {"customer": users[role].customer_id, "title": "x", "source": "feedback"},
            format="json",
        )
        assert response.status_code == 403
        own = items["launch"] if role == "internal" else items["frankfurt"]
        assert client.post(reverse("improvement-start", args=[own.pk])).status_code == 403
        response = client.patch(
            reverse("improvement-detail", args=[own.pk]), {"title": "Hacked"}, format="json"
        )
        assert response.status_code == 403
    assert Improvement.objects.filter(title="Hacked").count() == 0


def test_invitation_branch_over_the_api(users, client_for, customers, contacts, items):
    manager, external = client_for(users["manager"]), client_for(users["external"])
    item = items["frankfurt"]
    url = reverse("improvement-participants", args=[item.pk])
    refused = manager.post(url, {"contact": contacts["skybridge"].pk})
    assert refused.status_code == 400 and refused.json()["code"] == "not_in_difficulty"
    assert not item.participants.exists()
    flag = manager.post(
        reverse("customer-difficulty", args=[customers["skybridge"].pk]),
        {"in_difficulty": True, "reason": "Renewal at risk"},
        format="json",
    )
    assert flag.status_code == 200
    assert external.get(reverse("improvement-detail", args=[item.pk])).json()["view"] == "results"
    invited = manager.post(url, {"contact": contacts["skybridge"].pk, "note": "join us"})
    assert invited.status_code == 200
    assert invited.json()["participants"][0]["invited"] is True
    detail = external.get(reverse("improvement-detail", args=[item.pk])).json()
    assert detail["view"] == "detail" and len(detail["actions"]) == 2
    assert not _leaks(detail)  # invited: the plan, never cost, margin or internal notes
    actions = external.get(reverse("improvementaction-list")).json()["results"]
    assert {a["improvement"] for a in actions} == {item.pk}
    comment = external.post(
        reverse("improvementaction-comment", args=[actions[0]["id"]]), {"body": "Tested OK"}
    )
    assert comment.status_code == 200
    assert external.post(url, {"contact": contacts["skybridge"].pk}).status_code == 403


def test_health_is_for_provider_staff(users, client_for, customers):
    for role in ("internal", "external"):
        client = client_for(users[role])
        assert client.get(reverse("relationshiphealth-list")).status_code == 403
        own = users[role].customer_id
        assert client.get(reverse("relationshiphealth-detail", args=[own])).status_code == 403
    client = client_for(users["manager"])
    rows = client.get(reverse("relationshiphealth-list"), {"period": "2026-10"}).json()["results"]
    by_code = {row["code"]: row for row in rows}
    assert by_code["pacific"]["rating"] == "at_risk" and by_code["pacific"]["in_difficulty"]
    assert by_code["pacific"]["open_complaints"] == 1
    assert by_code["pacific"]["difficulty_history"][0]["to_state"] == "in_difficulty"
    assert by_code["meridian"]["overdue_invoices"] >= 1
    assert by_code["marketing"]["overdue_invoices"] is None  # internal: funding instead
    assert by_code["marketing"]["over_funding_by"] is not None
    assert by_code["meridian"]["over_funding_by"] is None
    internal = client.get(reverse("relationshiphealth-list"), {"kind": "internal"}).json()
    assert {row["kind"] for row in internal["results"]} == {"internal"}
    assert client.get(reverse("relationshiphealth-list"), {"period": "10-2026"}).status_code == 400


def test_review_packs_show_cost_for_internal_and_price_for_external(users, client_for, customers):
    manager = client_for(users["manager"])
    internal = manager.get(
        reverse("reviewpack-detail", args=[customers["marketing"].pk]), {"period": "2026-10"}
    ).json()
    assert internal["charges"]["basis"] == "cost"
    assert internal["charges"]["statements"][0]["total_cost"]
    assert internal["satisfaction"][-1] == {"period": "2026-10", "average": "4.0"}
    external = manager.get(
        reverse("reviewpack-detail", args=[customers["meridian"].pk]), {"period": "2026-10"}
    ).json()
    assert external["charges"]["basis"] == "price"
    assert external["charges"]["invoices"][0]["total"]
    assert not _leaks(external)  # even for staff: an external pack carries price only
    assert {i["title"][:13] for i in external["improvements"]} == {"Keep Meridian", "Low satisfact"}


def test_review_pack_scoping_and_pdf(users, client_for, customers):
    external = client_for(users["external"])
    own = customers["skybridge"].pk
    url = reverse("reviewpack-detail", args=[customers["meridian"].pk])
    assert external.get(url, {"period": "2026-10"}).status_code == 404
    pack = external.get(reverse("reviewpack-detail", args=[own]), {"period": "2026-10"}).json()
    assert pack["customer"] == "SkyBridge Airlines" and not _leaks(pack)
    assert all("driver" not in i for i in pack["improvements"])
    pdf = external.get(reverse("reviewpack-pdf", args=[own]), {"period": "2026-10"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert (
        external.get(reverse("reviewpack-detail", args=[own]), {"period": "x"}).status_code == 400
    )


def test_dashboard_for_staff_only(users, client_for):
    assert (
        client_for(users["external"]).get(reverse("improvementdashboard-list")).status_code == 403
    )
    client = client_for(users["manager"])
    data = client.get(reverse("improvementdashboard-list"), {"period": "2026-10"}).json()
    assert data["services_by_attainment"] and data["customers_by_health"]
    assert data["improvements_by_status"]["verified"] == 3
    assert data["improvements_by_driver"]["retention"] == 4
    assert data["revenue_against_capacity"]["external_revenue"]
    internal = client.get(
        reverse("improvementdashboard-list"), {"period": "2026-10", "kind": "internal"}
    ).json()
    assert internal["revenue_against_capacity"] is None
    assert set(internal["improvements_by_driver"]) <= {
        "business_impact",
        "cost_quality_balance",
        "business_objectives",
    }
    assert client.get(reverse("improvementdashboard-list"), {"kind": "x"}).status_code == 400


def test_service_reviews_over_the_api(users, client_for, customers):
    manager = client_for(users["manager"])
    created = manager.post(
        reverse("servicereview-list"), {"customer": customers["hr"].pk, "period": "2026-10"}
    )
    assert created.status_code == 201
    again = manager.post(
        reverse("servicereview-list"), {"customer": customers["hr"].pk, "period": "2026-10"}
    )
    assert again.status_code == 400
    held = manager.post(
        reverse("servicereview-held", args=[created.json()["id"]]),
        {"meeting_on": "2026-11-20", "minutes": "Fine."},
    )
    assert held.json()["status"] == "held"
    own = client_for(users["internal"]).get(reverse("servicereview-list")).json()["results"]
    assert {r["customer_name"] for r in own} == {"Marketing"}
    assert Customer.objects.get(code="hr").service_reviews.count() == 1


@pytest.mark.parametrize("role", ["manager", "internal", "external"])
def test_register_list_query_count_is_flat(users, client_for, role, django_assert_max_num_queries):
    client = client_for(users[role])
    with django_assert_max_num_queries(25):
        assert client.get(reverse("improvement-list")).status_code == 200
