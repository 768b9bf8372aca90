"""Reads never write (issue 15): pages and API lists of attainment show what the last
recomputation stored; a change of its inputs queues one recomputation job, and the page says a
newer computation is on its way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Service
from servicebook.core import jobs
from servicebook.core.models import Job, JobStatus
from servicebook.levels import jobs as level_jobs
from servicebook.levels import services
from servicebook.levels.models import Attainment, LevelsState

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _outage(users):
    agreement = Agreement.objects.get(reference="SLA-MKT-2026")
    target = agreement.targets.exclude(service=None).first()
    service = target.service if target else Service.objects.first()
    services.record_outage(
        actor=users["manager"],
        service=service,
        start=dt.datetime(2026, 2, 3, 9, tzinfo=dt.UTC),
        end=dt.datetime(2026, 2, 3, 11, tzinfo=dt.UTC),
    )
    return agreement


def writes_of(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.mark.parametrize("name", ["manager", "internal"])
def test_attainment_pages_and_api_lists_run_no_write(users, web_for, client_for, name):
    agreement = _outage(users)  # the stored attainment is now out of date
    LevelsState.objects.filter(agreement=agreement).update(fingerprint="changed")
    stored = list(Attainment.objects.order_by("pk").values_list("pk", "computed_at"))
    web = web_for(users[name])
    web.get(reverse("levels:list"))  # the session is settled before counting
    urls = [reverse("levels:list")]
    if Agreement.objects.visible_to(users[name]).filter(pk=agreement.pk).exists():
        urls.append(reverse("levels:agreement", args=[agreement.pk]))
    api = client_for(users[name])
    with CaptureQueriesContext(connection) as queries:
        for url in urls:
            assert web.get(url).status_code == 200
        for url in (
            "/api/attainment/",
            "/api/breaches/",
            f"/api/attainment/?agreement={agreement.pk}",
        ):
            assert api.get(url).status_code == 200
    assert writes_of(queries.captured_queries) == []
    assert list(Attainment.objects.order_by("pk").values_list("pk", "computed_at")) == stored


def test_a_change_queues_one_recomputation_and_the_page_says_so(
    users, web_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agreement = _outage(users)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_outage(  # a second change
            actor=users["manager"],
            service=agreement.targets.exclude(service=None).first().service,
            start=dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC),
            end=dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC),
        )
    queued = Job.objects.filter(kind=level_jobs.RECOMPUTE, status=JobStatus.QUEUED)
    assert queued.count() == 1
    page = web_for(users["manager"]).get(reverse("levels:agreement", args=[agreement.pk]))
    assert 'data-testid="recompute-queued"' in page.content.decode()
    assert 'data-testid="computed-at"' in page.content.decode()


def test_the_recomputation_job_brings_stale_agreements_up_to_date(
    users, django_capture_on_commit_callbacks, tmp_path, settings
):
    settings.SERVICEBOOK_JOBS_DIR = tmp_path
    agreement = Agreement.objects.get(reference="SLA-MKT-2026")
    LevelsState.objects.filter(agreement=agreement).update(fingerprint="changed")
    assert level_jobs.stale(agreement)
    with django_capture_on_commit_callbacks(execute=True):
        level_jobs.recompute_later(agreement=agreement)
    queued = Job.objects.get(kind=level_jobs.RECOMPUTE)
    assert queued.status == JobStatus.QUEUED
    jobs.run_job.call(queued.pk)  # what the worker does with it
    job = Job.objects.get(kind=level_jobs.RECOMPUTE)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert "SLA-MKT-2026" in job.summary["agreements_recomputed"]
    assert not level_jobs.stale(agreement)


def test_nothing_is_queued_when_nothing_is_out_of_date(users, django_capture_on_commit_callbacks):
    agreement = Agreement.objects.get(reference="SLA-MKT-2026")
    services.refresh_if_stale(agreement=agreement)
    with django_capture_on_commit_callbacks(execute=True):
        level_jobs.recompute_later(agreement=agreement)
    assert not Job.objects.filter(kind=level_jobs.RECOMPUTE).exists()


def test_the_recompute_button_starts_a_job(users, web_for):
    agreement = Agreement.objects.get(reference="SLA-MKT-2026")
    response = web_for(users["manager"]).post(reverse("levels:recompute", args=[agreement.pk]))
    job = Job.objects.get(kind=level_jobs.RECOMPUTE)
    assert response.status_code == 302 and response["Location"] == reverse("web:job", args=[job.pk])
    assert job.params == {"agreement": agreement.pk} and job.user == users["manager"]
