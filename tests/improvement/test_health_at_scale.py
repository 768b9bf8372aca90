"""Relationship health ranked for every customer without loading them (``health_of(light=True)``)
answers what the full computation answers; the page, the API and the dashboard page it."""

from __future__ import annotations

from django.urls import reverse

from servicebook.improvement import selectors
from servicebook.parties.models import Customer


def _figures(h):
    return (
        h.customer.pk,
        h.score,
        h.rating,
        h.concerns,
        h.currency,
        h.overdue_invoices,
        h.overdue_amount,
        h.over_funding_by,
        h.open_complaints,
        h.open_improvements,
        h.attainment_percent,
        h.open_breaches,
    )


def test_the_light_ranking_answers_what_the_full_health_answers(customers):
    everyone = Customer.objects.filter(status__in=["active", "suspended"])
    for period in ("2026-04", "2026-10"):
        full = selectors.worst_first(selectors.health_of(everyone, period=period))
        light = selectors.worst_first(selectors.health_of(everyone, period=period, light=True))
        assert [_figures(h) for h in light] == [_figures(h) for h in full]
        assert any(h.overdue_invoices for h in full)  # the demo has something to rank


def test_the_health_page_is_paged_sorted_and_filtered(users, web_for, customers):
    web = web_for(users["manager"])
    url = reverse("improvement:health")
    page = web.get(url, {"period": "2026-10"}).content.decode()
    assert 'data-testid="health-pacific"' in page and "rows" in page  # the list's count line
    at_risk = web.get(url, {"period": "2026-10", "rating": "at_risk"}).content.decode()
    assert 'data-testid="health-pacific"' in at_risk and 'data-testid="health-marketing"' not in (
        at_risk
    )
    found = web.get(url, {"q": "pacif"}).content.decode()
    assert 'data-testid="health-pacific"' in found and 'data-testid="health-meridian"' not in found
    internal = web.get(url, {"kind": "internal"}).content.decode()
    assert 'data-testid="health-marketing"' in internal and "health-pacific" not in internal
    assert web.get(url, {"sort": "-breaches"}).status_code == 200
    csv = web.get(url, {"_export": "csv", "rating": "at_risk"}).content.decode("utf-8-sig")
    assert "Pacific" in csv and csv.count("\n") >= 2
    assert web.get(url, {"period": "10-2026"}).status_code == 404


def test_the_health_api_pages_the_ranking(users, client_for, customers):
    client = client_for(users["manager"])
    answer = client.get(reverse("relationshiphealth-list"), {"period": "2026-10"}).json()
    assert answer["count"] == Customer.objects.filter(status__in=["active", "suspended"]).count()
    assert {"next", "previous"} <= answer.keys()
    ranks = [selectors.RATING_ORDER[row["rating"]] for row in answer["results"]]
    assert ranks == sorted(ranks)  # worst first


def test_the_dashboard_counts_ratings_and_names_the_worst(users, client_for, customers):
    client = client_for(users["manager"])
    data = client.get(reverse("improvementdashboard-list"), {"period": "2026-10"}).json()
    rated = Customer.objects.filter(status__in=["active", "suspended"]).count()
    assert sum(data["health_ratings"].values()) == rated
    assert 0 < len(data["customers_by_health"]) <= selectors.DASHBOARD_WORST


def test_review_packs_are_paged_and_searched(users, web_for, client_for, customers):
    web = web_for(users["manager"])
    page = web.get(reverse("improvement:reviews"), {"q": "pacif"}).content.decode()
    assert 'data-testid="pack-pacific"' in page and 'data-testid="pack-meridian"' not in page
    api = client_for(users["manager"]).get(reverse("reviewpack-list")).json()
    assert api["count"] >= len(api["results"]) > 0 and "previous" in api
    own = client_for(users["external"]).get(reverse("reviewpack-list")).json()
    assert [row["id"] for row in own["results"]] == [users["external"].customer_id]
