"""The pages: the register for each kind of user, the external view without cost, margin or
internal actions, forms that call the services, health, review packs and the dashboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.improvement.models import Improvement
from servicebook.parties import services as parties

#: Text of the demo that only provider staff (and, for cost, internal customers) may read.
STAFF_ONLY = ["Margin stays above", "Needs a second storage array", "% margin"]
COST = ["Estimated cost", "EUR 1,500.00", "EUR 8,000.00"]


def test_staff_register_and_detail(users, web_for, items):
    web = web_for(users["manager"])
    page = web.get(reverse("improvement:list")).content.decode()
    for key in ("launch", "resets", "tiers", "frankfurt", "meridian", "pacific", "breach"):
        assert items[key].title[:30] in page
    detail = web.get(reverse("improvement:detail", args=[items["tiers"].pk])).content.decode()
    assert "EUR 1,500.00" in detail and "expectation met" in detail
    # profitability and the internal notes (which talk margins) are finance's and the admin's
    assert "% margin" not in detail and "Margin stays above" not in detail
    finance = web_for(users["finance"])
    detail = finance.get(reverse("improvement:detail", args=[items["tiers"].pk])).content.decode()
    assert "Margin stays above" in detail and "% margin" in detail
    filtered = web.get(reverse("improvement:list"), {"driver": "retention"}).content.decode()
    assert "Keep Pacific" in filtered and "Campaign launches" not in filtered


def test_external_pages_never_show_cost_margin_or_internal_actions(users, web_for, items):
    web = web_for(users["external"])
    listing = web.get(reverse("improvement:list")).content.decode()
    assert "Frankfurt-only hosting" in listing and "Keep Meridian" not in listing
    for key in ("frankfurt", "tiers"):
        page = web.get(reverse("improvement:detail", args=[items[key].pk])).content.decode()
        assert 'data-testid="results-only"' in page
        assert 'data-testid="expected-result"' in page
        for secret in [*STAFF_ONLY, *COST, 'data-testid="actions"', "Design a Frankfurt-only"]:
            assert secret not in page, secret
        assert "Re-tier the VM price list" not in page
    tiers = web.get(reverse("improvement:detail", args=[items["tiers"].pk])).content.decode()
    assert "0.074" in tiers and "expectation met" in tiers
    other = reverse("improvement:detail", args=[items["meridian"].pk])
    assert web.get(other).status_code == 404


def test_external_user_invited_once_in_difficulty(users, web_for, items, contacts):
    item = items["frankfurt"]
    manager = web_for(users["manager"])
    response = manager.post(
        reverse("improvement:participant", args=[item.pk]),
        {"contact": contacts["skybridge"].pk, "note": ""},
    )
    assert "can be invited into a plan while" in response.content.decode()  # refused, shown
    assert not item.participants.exists()
    parties.flag_in_difficulty(
        actor=users["manager"], customer=item.customer, reason="Unhappy with releases"
    )
    response = manager.post(
        reverse("improvement:participant", args=[item.pk]),
        {"contact": contacts["skybridge"].pk, "note": "welcome"},
    )
    assert response.status_code == 302
    web = web_for(users["external"])
    page = web.get(reverse("improvement:detail", args=[item.pk])).content.decode()
    assert 'data-testid="actions"' in page and "Design a Frankfurt-only" in page
    assert "You are invited into this plan" in page
    for secret in [*STAFF_ONLY, *COST, "in difficulty"]:
        assert secret not in page, secret


def test_internal_user_approves_a_plan_from_the_page(users, web_for, customers, make_item):
    item = make_item(customers["marketing"], "business_impact")
    web = web_for(users["internal"])
    page = web.get(reverse("improvement:detail", args=[item.pk])).content.decode()
    assert 'data-testid="approve"' in page and "Estimated cost" not in page
    response = web.post(reverse("improvement:approve", args=[item.pk]), {"note": "OK"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "approved"
    again = web.post(reverse("improvement:approve", args=[item.pk]), {"note": "OK"})
    assert "is approved and cannot become approved" in again.content.decode()


def test_internal_user_sees_cost_but_no_staff_notes(users, web_for, items):
    page = web_for(users["internal"]).get(reverse("improvement:detail", args=[items["launch"].pk]))
    text = page.content.decode()
    assert "EUR 6,000.00" in text and "Funded from the service desk" not in text
    assert "Your organization takes part in this plan" in text


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_cannot_reach_staff_pages(users, web_for, items, role):
    web = web_for(users[role])
    for name in ("improvement:health", "improvement:dashboard", "improvement:create"):
        assert web.get(reverse(name)).status_code == 403
    own = items["launch"] if role == "internal" else items["frankfurt"]
    assert web.get(reverse("improvement:step", args=[own.pk, "start"])).status_code == 403
    assert web.get(reverse("improvement:edit", args=[own.pk])).status_code == 403


def test_create_from_the_page_shows_refusals(users, web_for, customers):
    web = web_for(users["manager"])
    form = {
        "customer": customers["skybridge"].pk,
        "title": "Faster onboarding",
        "source": "competitive_review",
        "status": "proposed",
        "driver": "business_impact",
        "expected_measure": "Days to onboard",
        "expected_direction": "at_most",
        "expected_value": "5",
        "expected_by": "2027-01-31",
    }
    before = Improvement.objects.count()
    refused = web.post(reverse("improvement:create"), form)
    assert refused.status_code == 200 and "its policy allows" in refused.content.decode()
    assert Improvement.objects.count() == before
    created = web.post(reverse("improvement:create"), {**form, "driver": "competitiveness"})
    assert created.status_code == 302
    item = Improvement.objects.get(title="Faster onboarding")
    assert item.customer_profitability is not None and item.status == "proposed"


def test_health_pages(users, web_for, customers):
    web = web_for(users["manager"])
    page = web.get(reverse("improvement:health"), {"period": "2026-10"}).content.decode()
    assert 'data-testid="health-pacific"' in page and "flagged in difficulty" in page
    detail = web.get(reverse("improvement:health-detail", args=[customers["pacific"].pk]))
    text = detail.content.decode()
    assert "flagged in difficulty" in text and 'data-testid="satisfaction-chart"' in text
    assert "Keep Pacific" in text
    internal = web.get(reverse("improvement:health-detail", args=[customers["marketing"].pk]))
    assert 'data-testid="funding"' in internal.content.decode()
    assert 'data-testid="overdue"' not in internal.content.decode()


def test_review_pack_pages(users, web_for, customers):
    web = web_for(users["manager"])
    internal = web.get(
        reverse("improvement:review-pack", args=[customers["marketing"].pk, "2026-10"])
    ).content.decode()
    assert 'data-testid="pack-cost"' in internal and "Unit cost" in internal
    assert "Every target met in October" in internal  # minutes of the held review
    external = web.get(
        reverse("improvement:review-pack", args=[customers["meridian"].pk, "2026-10"])
    ).content.decode()
    assert 'data-testid="pack-price"' in external
    for secret in ("Unit cost", "pack-cost", "margin", "Worth it"):
        assert secret not in external
    pdf = web.get(
        reverse("improvement:review-pack-pdf", args=[customers["meridian"].pk, "2026-10"])
    )
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    index = web.get(reverse("improvement:reviews")).content.decode()
    assert "Meridian Retail" in index and "Record the meeting" in index


def test_customer_sees_only_its_own_pack(users, web_for, customers):
    web = web_for(users["external"])
    own = web.get(reverse("improvement:review-pack", args=[customers["skybridge"].pk, "2026-10"]))
    assert own.status_code == 200 and "Unit cost" not in own.content.decode()
    other = reverse("improvement:review-pack", args=[customers["marketing"].pk, "2026-10"])
    assert web.get(other).status_code == 404
    assert web.get(other + "pdf/").status_code == 404


def test_dashboard_page_with_filters(users, web_for):
    web = web_for(users["manager"])
    page = web.get(reverse("improvement:dashboard"), {"period": "2026-10"}).content.decode()
    for testid in ("services-chart", "health-chart", "status-chart", "driver-chart", "capacity"):
        assert f'data-testid="{testid}"' in page
    assert "funded by external revenue" in page
    internal = web.get(reverse("improvement:dashboard"), {"period": "2026-10", "kind": "internal"})
    assert "Internal charges are not revenue" in internal.content.decode()
    assert web.get(reverse("improvement:dashboard"), {"kind": "x"}).status_code == 404


def test_register_list_query_count_is_flat(users, web_for, django_assert_max_num_queries):
    web = web_for(users["manager"])
    with django_assert_max_num_queries(20):
        assert web.get(reverse("improvement:list")).status_code == 200
