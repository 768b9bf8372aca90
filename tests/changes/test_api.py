"""R11/R16/R17 through the API: the workflow, every refusal, scoping and cost disclosure."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from servicebook.changes.models import Approval, ChangeRequest, CustomerImpact, CustomerTask
from servicebook.parties import services as parties
from tests.changes.conftest import approve_all, impact_of

BASENAMES = [
    "changerequest",
    "customerimpact",
    "approval",
    "customertask",
    "trainingrecord",
    "schedulefeed",
]


def _post(client, name, pk=None, data=None):
    url = reverse(name, args=[pk] if pk is not None else [])
    return client.post(url, data or {}, format="json")


def test_workflow_through_the_api(users, client_for, hosting):
    cm = client_for(users["change"])
    created = cm.post(
        reverse("changerequest-list"),
        {"title": "API change", "change_type": "normal", "services": [hosting.pk]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert _post(cm, "changerequest-start-assessment", pk).json()["status"] == "assessment"
    body = _post(
        cm,
        "changerequest-assess",
        pk,
        {"risk": "low", "service_impact": "none", "cost_impact": "1000.00"},
    ).json()
    sky = next(i for i in body["impacts"] if i["customer_name"] == "SkyBridge Airlines")
    assert sky["authorization"] == "approval" and sky["repricing"] == "quote"
    priced = _post(cm, "customerimpact-price-impact", sky["id"], {"price_impact": "90.00"})
    assert priced.json()["yearly_price_impact"] == "1080.00"
    assert _post(cm, "changerequest-submit", pk).json()["status"] == "awaiting_approval"
    assert _post(cm, "changerequest-it-decision", pk, {"verdict": "approve"}).status_code == 200
    marketing = ChangeRequest.objects.get(pk=pk).impacts.get(customer__code="marketing")
    decided = _post(
        client_for(users["internal"]), "customerimpact-decide", marketing.pk, {"verdict": "approve"}
    )
    assert decided.status_code == 200 and decided.json()["decision"] == "approved"
    ext = client_for(users["external"])
    assert _post(ext, "customerimpact-decide", sky["id"], {"verdict": "approve"}).status_code == 200
    accepted = _post(ext, "customerimpact-accept-price", sky["id"])
    assert accepted.json()["price_accepted_by_name"] == "Marc Lefèvre"
    history = cm.get(reverse("changerequest-history", args=[pk])).json()
    assert {"created", "it_approve", "customer_approve", "price_accepted"} <= {
        e["action"] for e in history
    }


def test_refusal_no_authority(users, client_for, make_change, contacts):
    change = make_change()
    rnd = impact_of(change, "rnd")
    response = _post(
        client_for(users["change"]),
        "customerimpact-decide",
        rnd.pk,
        {"verdict": "approve", "contact": contacts["Tom Richter"].pk},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "no_authority"
    assert not Approval.objects.filter(change=change, customer=rnd.customer).exists()


def test_refusal_authority_limit(users, client_for, make_change):
    change = make_change(cost="250000")
    response = _post(
        client_for(users["internal"]),
        "customerimpact-decide",
        impact_of(change, "marketing").pk,
        {"verdict": "approve"},
    )
    assert response.status_code == 400 and response.json()["code"] == "no_authority"
    assert "EUR 250,000.00 at stake" in response.json()["detail"]
    assert impact_of(change, "marketing").decision == "pending"


def test_refusal_suspended_customer(users, client_for, make_change, customers):
    change = make_change(price="100")
    parties.change_customer_status(
        actor=users["manager"],
        customer=customers["skybridge"],
        to_status="suspended",
        reason="non_payment",
    )
    ext = client_for(users["external"])
    sky = impact_of(change, "skybridge")
    for name in ("customerimpact-decide", "customerimpact-accept-price"):
        response = _post(ext, name, sky.pk, {"verdict": "approve"})
        assert response.status_code == 400 and response.json()["code"] == "customer_not_active"
    sky.refresh_from_db()
    assert sky.decision == "pending" and sky.price_accepted_at is None


def test_refusal_price_not_accepted(users, client_for, make_change, contacts):
    change = approve_all(make_change(price="100"), users, contacts)
    response = _post(client_for(users["change"]), "changerequest-schedule", change.pk)
    assert response.status_code == 400 and response.json()["code"] == "price_not_accepted"
    change.refresh_from_db()
    assert change.status == "approved"


def test_refusal_training_missing(users, client_for, make_change, contacts, customers):
    change = approve_all(make_change(), users, contacts)
    cm = client_for(users["change"])
    task = cm.post(
        reverse("customertask-list"),
        {
            "change": change.pk,
            "customer": customers["pacific"].pk,
            "kind": "deployment",
            "title": "Restart workers",
            "script": "1. restart",
            "contact": contacts["Wei Ling Tan"].pk,
        },
        format="json",
    )
    assert task.status_code == 201, task.json()
    response = _post(cm, "changerequest-schedule", change.pk)
    assert response.status_code == 400 and response.json()["code"] == "training_missing"
    trained = cm.post(
        reverse("trainingrecord-list"),
        {
            "change": change.pk,
            "contact": contacts["Wei Ling Tan"].pk,
            "completed_on": timezone.now().date().isoformat(),
        },
        format="json",
    )
    assert trained.status_code == 201
    assert _post(cm, "changerequest-schedule", change.pk).json()["status"] == "scheduled"


def test_internal_user_adds_a_task_and_sets_the_window(users, client_for, make_change, customers):
    change = make_change()
    internal = client_for(users["internal"])
    response = internal.post(
        reverse("customertask-list"),
        {
            "change": change.pk,
            "customer": customers["marketing"].pk,
            "kind": "test",
            "title": "Test dashboards",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    window = _post(
        internal,
        "changerequest-window",
        change.pk,
        {"planned_start": "2031-03-01T20:00:00Z", "planned_end": "2031-03-01T22:00:00Z"},
    )
    assert window.status_code == 200 and window.json()["planned_start"].startswith("2031-03-01")


def test_external_user_cannot_add_tasks_or_set_the_window(
    users, client_for, make_change, customers
):
    change = make_change()
    ext = client_for(users["external"])
    response = ext.post(
        reverse("customertask-list"),
        {"change": change.pk, "customer": customers["skybridge"].pk, "kind": "test", "title": "x"},
        format="json",
    )
    assert response.status_code == 403
    window = _post(
        ext,
        "changerequest-window",
        change.pk,
        {"planned_start": "2031-03-01T20:00:00Z", "planned_end": "2031-03-01T22:00:00Z"},
    )
    assert window.status_code == 403
    assert not CustomerTask.objects.filter(change=change).exists()


def test_another_customers_impact_is_not_found(users, client_for, make_change):
    change = make_change()
    response = _post(
        client_for(users["external"]),
        "customerimpact-decide",
        impact_of(change, "marketing").pk,
        {"verdict": "approve"},
    )
    assert response.status_code == 404
    detail = client_for(users["external"]).get(reverse("changerequest-detail", args=[change.pk]))
    assert [i["customer_name"] for i in detail.json()["impacts"]] == ["SkyBridge Airlines"]
    assert detail.json()["missing_approvals"] == ["IT change manager", "SkyBridge Airlines"]


def test_customer_users_cannot_run_the_lifecycle(users, client_for, make_change, hosting):
    change = make_change()
    for role in ("internal", "external"):
        client = client_for(users[role])
        assert (
            _post(
                client, "changerequest-it-decision", change.pk, {"verdict": "approve"}
            ).status_code
            == 403
        )
        created = client.post(
            reverse("changerequest-list"), {"title": "x", "services": [hosting.pk]}, format="json"
        )
        assert created.status_code == 403
    change.refresh_from_db()
    assert not change.approvals.exists()


def test_emergency_after_the_fact_through_the_api(users, client_for, make_change, contacts):
    change = make_change(change_type="emergency")
    cm = client_for(users["change"])
    assert _post(cm, "changerequest-schedule", change.pk).json()["status"] == "scheduled"
    assert _post(cm, "changerequest-implement", change.pk).status_code == 200
    response = _post(cm, "changerequest-review", change.pk)
    assert response.status_code == 400 and response.json()["code"] == "approvals_missing"
    approve_all(change, users, contacts)
    body = _post(cm, "changerequest-review", change.pk).json()
    assert body["status"] == "reviewed" and body["approved_after_the_fact"]
    assert all(a["after_the_fact"] for a in body["approvals"])


def test_feed_rotation_through_the_api(users, client_for, customers):
    internal = client_for(users["internal"])
    response = _post(internal, "schedulefeed-rotate", data={"customer": customers["marketing"].pk})
    assert response.status_code == 200 and "/changes/feed/" in response.json()["url"]
    other = _post(internal, "schedulefeed-rotate", data={"customer": customers["skybridge"].pk})
    assert other.status_code == 400  # another customer does not exist for this user
    feeds = internal.get(reverse("schedulefeed-list")).json()["results"]
    assert [f["customer_name"] for f in feeds] == ["Marketing"]


def _walk_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


def test_external_user_never_sees_cost_or_margin(users, client_for):
    client = client_for(users["external"])
    seen = 0
    for basename in BASENAMES:
        response = client.get(reverse(f"{basename}-list"))
        assert response.status_code == 200
        bodies = [response.json()]
        for row in response.json()["results"]:
            bodies.append(client.get(reverse(f"{basename}-detail", args=[row["id"]])).json())
        for body in bodies:
            seen += 1
            keys = {key.lower() for key in _walk_keys(body)}
            assert not {k for k in keys if "cost" in k or "margin" in k}, body
            text = json.dumps(body)
            assert "Marketing" not in text and "R&D Lab" not in text  # no other customer
    for change in ChangeRequest.objects.visible_to(users["external"]):
        history = client.get(reverse("changerequest-history", args=[change.pk])).json()
        assert "cost" not in json.dumps(history).lower()
    assert seen > 10


def test_internal_user_sees_cost_impact(users, client_for):
    rows = client_for(users["internal"]).get(reverse("changerequest-list")).json()["results"]
    assert rows and all("cost_impact" in row for row in rows)


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_see_only_changes_that_affect_them(users, client_for, role):
    customer = users[role].customer
    rows = client_for(users[role]).get(reverse("changerequest-list")).json()["results"]
    expected = set(
        CustomerImpact.objects.filter(customer=customer).values_list("change_id", flat=True)
    )
    assert {row["id"] for row in rows} == expected and expected


def test_change_list_query_count_does_not_grow_with_changes(
    users, client_for, make_change, django_assert_max_num_queries
):
    client = client_for(users["change"])
    for _ in range(3):
        make_change("assessment")
    # assessed changes: no scheduling check; a bounded number of queries however many there are
    with django_assert_max_num_queries(12):
        assert client.get(reverse("changerequest-list") + "?status=assessment").status_code == 200
