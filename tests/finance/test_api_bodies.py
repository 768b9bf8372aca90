"""Every write of the finance API answers 400 with a clear message to a JSON body that is not an
object (``0``, ``[]``, ``"x"``, ``true``, ``null``), never 500, and changes nothing."""

from __future__ import annotations

import pytest

from servicebook.core.api import PermissionFirstMixin
from servicebook.finance.api import ROUTES
from servicebook.finance.billing.models import Payment
from servicebook.finance.costing.models import CostPool, UnitCost
from servicebook.finance.ledger.models import JournalEntry
from servicebook.finance.usage import services as usage_services
from servicebook.finance.usage.models import CloudMapping

pytestmark = pytest.mark.django_db

BODIES = ["0", "[]", '"x"', "true", "null", '[{"period": "2026-10"}]']
WRITES = [
    ("post", "/api/cost-pools/compute/"),
    ("post", "/api/cost-pools/"),
    ("post", "/api/journal-entries/adjust/"),
    ("post", "/api/periods/close/"),
    ("post", "/api/payments/"),
    ("post", "/api/reminders/send/"),
    ("post", "/api/price-overrides/"),
    ("post", "/api/usage-imports/"),
    ("post", "/api/cloud-mappings/"),
]


def _counts():
    return tuple(
        model.objects.count() for model in (CostPool, UnitCost, JournalEntry, Payment, CloudMapping)
    )


def test_every_finance_viewset_checks_the_body_in_one_place():
    assert all(issubclass(viewset, PermissionFirstMixin) for _, viewset, _ in ROUTES)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("method, url", WRITES)
def test_non_object_json_bodies_answer_400(users, client_for, method, url, body):
    client = client_for(users["finance"])
    before = _counts()
    response = getattr(client, method)(url, body, content_type="application/json")
    assert response.status_code == 400, (url, body, response.content)
    assert "must be a JSON object" in response.json()["detail"]
    assert _counts() == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_cloud_mapping_update_refuses_a_list(users, client_for, method):
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
    response = getattr(client_for(users["finance"]), method)(
        f"/api/cloud-mappings/{mapping.pk}/", "[]", content_type="application/json"
    )
    assert response.status_code == 400 and "not a list" in response.json()["detail"]


def test_compute_with_a_good_body_still_works_and_a_bad_period_is_a_400(users, client_for):
    client = client_for(users["finance"])
    bad = client.post("/api/cost-pools/compute/", {"period": 5}, format="json")
    assert bad.status_code == 400 and "is not a period" in bad.json()["detail"]
    empty = client.post("/api/cost-pools/compute/", {}, format="json")
    assert empty.status_code == 400
