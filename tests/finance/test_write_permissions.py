"""Permission before validation on every finance write (issue 12): a customer user, or a staff
member without the right role, gets 403 whatever the body, before any validation can tell them
about data they may not see; nothing changes."""

from __future__ import annotations

import json

import pytest
from rest_framework import viewsets

from servicebook.finance.api import ROUTES
from servicebook.finance.billing.models import Invoice, Payment, Reminder
from servicebook.finance.costing.models import CostPool, PriceFloorOverride, UnitCost
from servicebook.finance.ledger.models import JournalEntry, Period
from servicebook.finance.usage import services as usage_services
from servicebook.finance.usage.models import CloudMapping, UsageImport

pytestmark = pytest.mark.django_db

MODELS = (
    CostPool,
    UnitCost,
    JournalEntry,
    Payment,
    CloudMapping,
    Period,
    PriceFloorOverride,
    Reminder,
    UsageImport,
)

WRITES = [
    ("post", "/api/periods/close/", {"finance", "admin"}),
    ("post", "/api/payments/", {"finance", "admin"}),
    ("post", "/api/price-overrides/", {"finance", "admin"}),
    ("post", "/api/reminders/send/", {"finance", "admin"}),
    ("post", "/api/journal-entries/adjust/", {"finance", "admin"}),
    ("post", "/api/cost-pools/", {"finance", "admin"}),
    ("post", "/api/cost-pools/compute/", {"finance", "admin"}),
    ("post", "/api/usage-imports/", {"finance", "admin"}),
    ("post", "/api/cloud-mappings/", {"finance", "admin"}),
]


def _bodies():
    """Bodies a refused caller could probe with: valid-looking, invalid, naming another
    customer's invoice or agreement, or no JSON object at all."""
    invoice = Invoice.objects.order_by("pk").first()
    return [
        "{}",
        json.dumps({"period": "2026-10"}),
        json.dumps({"period": "not-a-period", "dry_run": "x"}),
        json.dumps({"invoice": invoice.pk, "kind": "cash", "amount": "1.00"}),
        json.dumps({"invoice": 999999, "amount": "-5"}),
        json.dumps({"agreement": 1, "offering": 1, "reason": "probe"}),
        json.dumps({"agreement": 999999, "offering": 999999}),
        "[]",
        "0",
        "null",
    ]


def _counts():
    return tuple(model.objects.count() for model in MODELS)


@pytest.mark.parametrize("username", ["internal", "external", "manager", "change", "senior"])
@pytest.mark.parametrize("method, url, allowed", WRITES)
def test_refused_roles_get_403_whatever_the_body(users, client_for, username, method, url, allowed):
    assert username not in allowed
    client = client_for(users[username])
    before = _counts()
    for body in _bodies():
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 403, (url, username, body, response.content)
        assert "needs one of these roles" in response.json()["detail"]
    assert _counts() == before


@pytest.mark.parametrize("username", ["internal", "external", "manager", "change"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_cloud_mapping_changes_refused_before_the_body(users, client_for, username, method):
    from servicebook.parties.models import Customer

    mapping = usage_services.set_cloud_mapping(
        actor=users["finance"],
        mapping=None,
        key="tag",
        tag_key="team",
        value="mkt",
        customer=Customer.objects.get(code="marketing"),
        note="",
    )
    before = _counts()
    response = getattr(client_for(users[username]), method)(
        f"/api/cloud-mappings/{mapping.pk}/", "[]", content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert _counts() == before
    mapping.refresh_from_db()
    assert mapping.value == "mkt"


def test_every_finance_write_declares_who_may_make_it():
    """Driven from the router: a new write action without ``write_roles`` fails here."""
    safe = {"list", "retrieve"}
    for prefix, viewset, _ in ROUTES:
        declared = set(getattr(viewset, "write_roles", {}))
        writes = set()
        for extra in viewset.get_extra_actions():
            if set(extra.mapping) - {"get", "head", "options"}:
                writes.add(extra.__name__)
        for name in ("create", "update", "partial_update", "destroy"):
            if hasattr(viewset, name) and name not in safe:
                writes.add(name)
        if not issubclass(viewset, viewsets.GenericViewSet) and not writes:
            continue
        missing = writes - declared
        assert not missing, f"/api/{prefix}/: {sorted(missing)} without write_roles"


def test_finance_still_reaches_validation(users, client_for):
    response = client_for(users["finance"]).post(
        "/api/periods/close/", {"period": "nope"}, format="json"
    )
    assert response.status_code == 400
