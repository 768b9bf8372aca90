"""Service level pages: staff and customer users, scoping, consequences by policy."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.levels.models import Attainment, Ticket


def agreement(reference):
    return Agreement.objects.get(reference=reference)


def test_navigation_and_overview(users, web_for):
    page = web_for(users["external"]).get(reverse("levels:list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/service-levels/"' in text and "CT-SKY-2026" in text
    assert "CT-MER-2026" not in text and "SLA-MKT-2026" not in text
    staff = web_for(users["manager"]).get(reverse("levels:list")).content.decode()
    assert "CT-MER-2026" in staff and "Credits EUR 2,204.00" in staff
    assert "1 improvement item" in staff


def test_contract_page_shows_credit_and_trend(users, web_for):
    retail = agreement("CT-MER-2026")
    page = web_for(users["manager"]).get(reverse("levels:agreement", args=[retail.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "10% → EUR 2,204.00" in text and "Service credits" in text
    assert "Pending" in text or "Applied" in text
    assert "Improvement items" not in text
    chart = re.search(r"data-testid=\"availability-chart\"[^>]*data-chart='([^']*)'", text)
    data = json.loads(chart.group(1).replace("&quot;", '"'))
    assert data["labels"][:3] == ["2026-01", "2026-02", "2026-03"]
    assert float(data["values"][2]) < 99.0
    assert "Recompute" in text


def test_internal_page_shows_improvement_item_to_its_customer(users, web_for):
    marketing = agreement("SLA-MKT-2026")
    page = web_for(users["internal"]).get(reverse("levels:agreement", args=[marketing.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Improvement items" in text and "Draft" in text and "Service credits" not in text
    assert "Recompute" not in text  # customers read only
    assert "cost" not in text.lower()


@pytest.mark.parametrize("who", ["internal", "external"])
def test_other_customers_pages_are_404(users, web_for, who):
    retail = agreement("CT-MER-2026")
    client = web_for(users[who])
    ticket = Ticket.objects.filter(agreement=retail).first()
    assert client.get(reverse("levels:agreement", args=[retail.pk])).status_code == 404
    assert client.get(reverse("levels:tickets", args=[retail.pk])).status_code == 404
    assert client.get(reverse("levels:ticket", args=[ticket.pk])).status_code == 404
    before = Attainment.objects.filter(agreement=retail).count()
    assert client.post(reverse("levels:recompute", args=[retail.pk])).status_code == 404
    assert Attainment.objects.filter(agreement=retail).count() == before


def test_customer_cannot_recompute_own(users, web_for):
    marketing = agreement("SLA-MKT-2026")
    response = web_for(users["internal"]).post(reverse("levels:recompute", args=[marketing.pk]))
    assert response.status_code == 403


def test_tickets_and_clock_timeline(users, web_for):
    marketing = agreement("SLA-MKT-2026")
    breach = Attainment.objects.get(agreement=marketing, met=False)
    client = web_for(users["internal"])
    listing = client.get(reverse("levels:tickets", args=[marketing.pk]), {"attainment": breach.pk})
    assert listing.status_code == 200
    numbers = re.findall(r">(INC\d+)</a>", listing.content.decode())
    assert len(numbers) == 2
    ticket = Ticket.objects.get(number=numbers[0], agreement=marketing)
    page = client.get(reverse("levels:ticket", args=[ticket.pk])).content.decode()
    assert "breached" in page and "Europe/Paris" in page
    assert page.count('data-testid="deadline-marker"') == 2


def test_staff_recompute_from_the_page(users, web_for):
    marketing = agreement("SLA-MKT-2026")
    response = web_for(users["manager"]).post(reverse("levels:recompute", args=[marketing.pk]))
    assert response.status_code == 302


def test_list_pages_query_count_is_bounded(users, web_for, django_assert_max_num_queries):
    client = web_for(users["manager"])
    client.get(reverse("levels:list"))  # warm the cache
    marketing = agreement("SLA-MKT-2026")
    with django_assert_max_num_queries(150):
        client.get(reverse("levels:list"))
    with django_assert_max_num_queries(60):
        client.get(reverse("levels:agreement", args=[marketing.pk]))
    with django_assert_max_num_queries(20):
        client.get(reverse("levels:tickets", args=[marketing.pk]))
