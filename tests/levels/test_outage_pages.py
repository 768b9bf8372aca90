"""Outages and planned maintenance on the pages (issue 18): the list per agreement or service,
the form that records one through ``services.record_outage`` (a recomputation job is queued as
for the API), and the ticket import page's agreement chosen from a list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Offering
from servicebook.core.models import Job
from servicebook.levels import jobs as level_jobs
from servicebook.levels.models import Outage


@pytest.fixture
def retail():
    return Agreement.objects.get(reference="CT-MER-2026", status="active")


def _desk():
    return Offering.objects.get(code="desk-user").service


def _post(service, **change):
    return {
        "service": service.pk,
        "planned": "yes",
        "start": "2026-03-07T22:00",
        "end": "2026-03-08T02:00",
        "time_zone": "Europe/Paris",
        "description": "Storage firmware upgrade",
        **change,
    }


def test_record_planned_maintenance(users, web_for, retail, django_capture_on_commit_callbacks):
    client = web_for(users["manager"])
    page = client.get(reverse("levels:outage-create"), {"agreement": retail.pk}).content.decode()
    assert '<label class="form-label" for="id_planned">What it was</label>' in page
    assert "Planned maintenance" in page and "Every agreement with the service" in page
    Job.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("levels:outage-create"), _post(_desk(), agreement=retail.pk))
    assert response.status_code == 302
    outage = Outage.objects.get(description="Storage firmware upgrade")
    assert outage.planned and outage.agreement == retail
    assert outage.start == dt.datetime(2026, 3, 7, 21, 0, tzinfo=dt.UTC)  # Paris is UTC+1
    assert outage.end == dt.datetime(2026, 3, 8, 1, 0, tzinfo=dt.UTC)
    assert outage.reference.startswith(f"OUT-{_desk().code}-")
    # the same port as the API: a recomputation job is queued once the outage commits
    assert Job.objects.filter(kind=level_jobs.RECOMPUTE).exists()
    listing = client.get(response["Location"]).content.decode()
    assert outage.reference in listing and "Planned maintenance" in listing


def test_an_ongoing_outage_of_the_whole_service(users, web_for):
    response = web_for(users["admin"]).post(
        reverse("levels:outage-create"), _post(_desk(), planned="no", end="", reference="INC-9")
    )
    assert response.status_code == 302
    outage = Outage.objects.get(reference="INC-9")
    assert outage.end is None and outage.agreement is None and not outage.planned


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end": "2026-03-07T21:00"}, "an outage ends after it starts"),
        ({"start": "yesterday"}, "Enter a valid date/time"),
        ({"service": ""}, "This field is required"),
        (
            {"start": "2026-03-29T02:30", "end": "2026-03-29T03:15", "time_zone": "Europe/Paris"},
            "02:30 does not exist in Europe/Paris on 2026-03-29",
        ),
    ],
)
def test_an_invalid_outage_is_refused(users, web_for, change, message):
    response = web_for(users["manager"]).post(
        reverse("levels:outage-create"), {**_post(_desk()), **change}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Outage.objects.filter(description="Storage firmware upgrade").exists()


def test_an_agreement_without_the_services_availability_target_is_refused(users, web_for):
    pacific = Agreement.objects.get(reference="CT-SKY-2026")
    response = web_for(users["manager"]).post(
        reverse("levels:outage-create"), _post(_desk(), agreement=pacific.pk)
    )
    assert response.status_code == 200
    assert "no availability target for the service" in response.content.decode()
    assert not Outage.objects.filter(description="Storage firmware upgrade").exists()


@pytest.mark.parametrize("role", ["finance", "change", "internal", "external"])
def test_only_service_managers_record_outages(users, web_for, role):
    client = web_for(users[role])
    assert client.get(reverse("levels:outage-create")).status_code == 403
    assert client.post(reverse("levels:outage-create"), _post(_desk())).status_code == 403
    assert not Outage.objects.filter(description="Storage firmware upgrade").exists()
    page = client.get(reverse("levels:outages")).content.decode()
    assert "record-outage" not in page


def test_the_outage_list_per_agreement(users, web_for, retail):
    from servicebook.levels import services

    manager = users["manager"]
    start = dt.datetime(2026, 2, 3, 9, tzinfo=dt.UTC)
    hosting = Offering.objects.get(code="vm-hour").service
    services.record_outage(actor=manager, service=_desk(), start=start, reference="DESK-ALL")
    services.record_outage(actor=manager, service=hosting, start=start, reference="VM-ALL")
    client = web_for(manager)
    html = client.get(reverse("levels:outages"), {"agreement": retail.pk}).content.decode()
    assert "DESK-ALL" in html and "VM-ALL" not in html  # retail measures the desk only
    assert "Every agreement" in html
    html = client.get(reverse("levels:outages"), {"service": hosting.pk}).content.decode()
    assert "VM-ALL" in html and "DESK-ALL" not in html
    page = client.get(reverse("levels:agreement", args=[retail.pk])).content.decode()
    assert f"{reverse('levels:outages')}?agreement={retail.pk}" in page


def test_the_ticket_import_page_offers_the_agreements_from_a_list(users, web_for):
    page = web_for(users["manager"]).get(reverse("levels:import-tickets")).content.decode()
    assert '<select name="agreement"' in page
    customer = Agreement.objects.filter(reference="SLA-MKT-2026").first().customer.name
    assert f'<option value="SLA-MKT-2026">SLA-MKT-2026 ({customer})</option>' in page
    assert "ServiceNow incident export" in page


def test_end_an_ongoing_outage(users, web_for):
    from servicebook.levels import services

    start = dt.datetime(2026, 2, 3, 9, tzinfo=dt.UTC)
    outage = services.record_outage(
        actor=users["manager"], service=_desk(), start=start, reference="DESK-ON"
    )
    client = web_for(users["manager"])
    listing = client.get(reverse("levels:outages")).content.decode()
    url = reverse("levels:outage-end", args=[outage.pk])
    assert f'ongoing · <a href="{url}">End it</a>' in listing
    response = client.post(url, {"end": "2026-02-03T08:00", "time_zone": "UTC"})
    assert "an outage ends after it starts" in response.content.decode()
    response = client.post(url, {"end": "2026-02-03T11:30", "time_zone": "Europe/Paris"})
    assert response.status_code == 302
    outage.refresh_from_db()
    assert outage.end == dt.datetime(2026, 2, 3, 10, 30, tzinfo=dt.UTC)
    response = client.post(url, {"end": "2026-02-03T12:00", "time_zone": "UTC"})
    assert "already ended" in response.content.decode()
    assert web_for(users["finance"]).post(url, {"end": "2026-02-03T12:00"}).status_code == 403
    Outage.objects.filter(pk=outage.pk).update(end=None)  # ongoing again: a customer sees it
    listing = web_for(users["internal"]).get(reverse("levels:outages")).content.decode()
    assert "DESK-ON" in listing and url not in listing
