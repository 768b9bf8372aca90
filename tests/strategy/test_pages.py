"""The strategy pages: list, an objective's page, the reading and import forms (R9)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from servicebook.strategy.models import Reading


def test_the_objective_page_for_staff(users, web_for, research):
    page = web_for(users["manager"]).get(reverse("strategy:detail", args=[research.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="trend-chart"' in text
    assert "&quot;target&quot;: &quot;95.0000&quot;" in text  # the target line of the chart
    assert 'data-testid="service-cost"' in text
    assert "Secure data centre for confidential research" in text  # the demand it serves


def test_an_internal_user_sees_its_own_objective_without_cost(users, web_for, research, growth):
    client = web_for(users["internal"])
    assert client.get(reverse("strategy:detail", args=[research.pk])).status_code == 404
    page = client.get(reverse("strategy:detail", args=[growth.pk]))
    assert page.status_code == 200 and 'data-testid="service-cost"' not in page.content.decode()
    listed = client.get(reverse("strategy:list")).content.decode()
    assert growth.title in listed and research.title not in listed


def test_an_external_user_sees_its_outcomes_only(users, web_for, research):
    text = web_for(users["external"]).get(reverse("strategy:list")).content.decode()
    assert "Minutes of booking-platform outage" in text and research.title not in text


def test_a_reading_entered_on_the_page(users, web_for, hosted):
    url = reverse("strategy:reading", args=[hosted.pk])
    client = web_for(users["senior"])
    bad = client.post(url, {"period": "2026-Q4", "value": "80"})
    assert bad.status_code == 200 and "not a monthly period" in bad.content.decode()
    assert client.post(url, {"period": "2026-11", "value": "80"}).status_code == 302
    assert Reading.objects.get(measure=hosted, period="2026-11").value == 80
    assert web_for(users["internal"]).get(url).status_code == 403


def test_readings_imported_on_the_page(users, web_for, hosted):
    data = f"measure,period,value\n{hosted.pk},2026-11,82\nnothing,2026-11,1\n".encode()
    page = web_for(users["manager"]).post(
        reverse("strategy:import"), {"file": SimpleUploadedFile("r.csv", data, "text/csv")}
    )
    text = page.content.decode()
    assert "2 rows read: 1 imported, 1 rejected." in text and "no measure" in text


def test_the_external_review_pack_page_shows_its_outcomes(users, web_for, customers):
    url = reverse("improvement:review-pack", args=[customers["skybridge"].pk, "2026-08"])
    text = web_for(users["external"]).get(url).content.decode()
    assert 'data-testid="pack-outcomes"' in text and "12 minutes" in text


def test_the_demand_page_shows_the_objectives_it_serves(users, web_for):
    from servicebook.demand.models import DemandRequest

    secure = DemandRequest.objects.get(title__startswith="Secure data centre")
    text = web_for(users["manager"]).get(reverse("demand:detail", args=[secure.pk])).content
    assert b'data-testid="objectives-served"' in text and b"Protect the group" in text
