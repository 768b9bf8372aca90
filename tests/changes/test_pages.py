"""Change pages: each role sees its part; forms call the services and show their refusals."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.changes.models import ChangeRequest, CustomerTask
from tests.changes.conftest import impact_of

ROLES = ["admin", "manager", "finance", "change", "internal", "external"]


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_for_every_role(users, web_for, role):
    client = web_for(users[role])
    for name in ("changes:list", "changes:schedule"):
        assert client.get(reverse(name)).status_code == 200
    for change in ChangeRequest.objects.visible_to(users[role]):
        assert client.get(reverse("changes:detail", args=[change.pk])).status_code == 200


def test_internal_approver_co_authorizes_and_adds_a_test_task(users, web_for, make_change):
    change = make_change()
    client = web_for(users["internal"])
    page = client.get(reverse("changes:detail", args=[change.pk])).content.decode()
    assert 'data-testid="decide-marketing"' in page and 'data-testid="cost-impact"' in page
    marketing = impact_of(change, "marketing")
    response = client.post(
        reverse("changes:impact-decide", args=[change.pk, marketing.pk]), {"verdict": "approve"}
    )
    assert response.status_code == 302
    marketing.refresh_from_db()
    assert marketing.decision == "approved"
    response = client.post(
        reverse("changes:task-create", args=[change.pk]),
        {"customer": marketing.customer_id, "kind": "test", "title": "Test dashboards"},
    )
    assert response.status_code == 302
    assert CustomerTask.objects.filter(change=change, kind="test").exists()


def test_refusal_is_shown_on_the_form(users, web_for, make_change):
    change = make_change(cost="250000")
    marketing = impact_of(change, "marketing")
    response = web_for(users["internal"]).post(
        reverse("changes:impact-decide", args=[change.pk, marketing.pk]), {"verdict": "approve"}
    )
    assert response.status_code == 200
    assert "authority limit" in response.content.decode()
    marketing.refresh_from_db()
    assert marketing.decision == "pending"


def test_external_contact_accepts_price_and_never_sees_cost(users, web_for, make_change):
    change = make_change(price="250")
    client = web_for(users["external"])
    page = client.get(reverse("changes:detail", args=[change.pk])).content.decode()
    assert 'data-testid="cost-impact"' not in page and "Cost impact" not in page
    assert "Marketing" not in page and 'data-testid="add-task"' not in page
    sky = impact_of(change, "skybridge")
    response = client.post(reverse("changes:impact-accept-price", args=[change.pk, sky.pk]), {})
    assert response.status_code == 302
    sky.refresh_from_db()
    assert sky.price_accepted_by.name == "Marc Lefèvre"


def test_other_customers_objects_are_not_found(users, web_for, make_change):
    change = make_change()
    marketing = impact_of(change, "marketing")
    client = web_for(users["external"])
    url = reverse("changes:impact-decide", args=[change.pk, marketing.pk])
    assert client.get(url).status_code == 404
    payroll = ChangeRequest.objects.get(title__startswith="Payroll hotfix")
    assert client.get(reverse("changes:detail", args=[payroll.pk])).status_code == 404


def test_lifecycle_pages_are_for_change_managers(users, web_for, make_change):
    change = make_change("draft")
    for role in ("manager", "internal", "external"):
        client = web_for(users[role])
        url = reverse("changes:step", args=[change.pk, "start-assessment"])
        assert client.post(url).status_code in (403, 404)
    assert web_for(users["manager"]).get(reverse("changes:create")).status_code == 403
    response = web_for(users["change"]).post(
        reverse("changes:step", args=[change.pk, "start-assessment"])
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "assessment"


def test_schedule_page_shows_the_feed_address(users, web_for, customers):
    page = web_for(users["internal"]).get(reverse("changes:schedule")).content.decode()
    assert customers["marketing"].change_feed.token in page
    assert "Storage tier upgrade" in page
    staff = web_for(users["change"]).get(
        reverse("changes:schedule") + f"?customer={customers['skybridge'].pk}"
    )
    assert customers["skybridge"].change_feed.token in staff.content.decode()


def test_schedule_customer_picker_offers_some_and_finds_the_rest(users, web_for, customers):
    """Staff pick the customer from at most SHOWN options, with a search (issue 14: a select of
    10,000 customers); the chosen one stays offered whatever the search."""
    from servicebook.parties.models import Customer
    from servicebook.web.forms import SHOWN

    provider = customers["skybridge"].provider
    Customer.objects.bulk_create(
        Customer(provider=provider, name=f"Bulk {i:03}", code=f"BULK{i:03}", kind="external")
        for i in range(SHOWN + 5)
    )
    staff = web_for(users["change"])
    page = staff.get(reverse("changes:schedule")).content.decode()
    assert page.count('<option value="') == SHOWN + 1  # "choose" and SHOWN customers
    assert "more match than the list offers" in page
    skybridge = customers["skybridge"]
    found = staff.get(reverse("changes:schedule") + "?q=skyb").content.decode()
    assert f'<option value="{skybridge.pk}"' in found
    assert "Bulk 000" not in found
    chosen = staff.get(
        reverse("changes:schedule") + f"?q=Bulk&customer={skybridge.pk}"
    ).content.decode()
    assert f'<option value="{skybridge.pk}" selected' in chosen
    own = web_for(users["internal"]).get(reverse("changes:schedule")).content.decode()
    assert "schedule_q" not in own
