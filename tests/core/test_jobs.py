"""Background jobs in one process: the lifecycle, failure and retry, an interrupted job, who may
start and see a job, and the job pages. Tasks run inline here (django-tasks' ImmediateBackend,
when the transaction that queued them commits); tests/core/test_worker.py runs the real worker."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from servicebook.core import jobs
from servicebook.core.errors import PermissionDenied
from servicebook.core.models import Job, JobStatus
from servicebook.levels.jobs import IMPORT_TICKETS, RECOMPUTE
from servicebook.levels.models import Ticket

SNOW = Path(__file__).resolve().parents[1] / "data" / "tickets" / "servicenow_incidents.csv"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PARAMS = {"format": "servicenow", "agreement": "SLA-MKT-2026", "time_zone": "Europe/Paris"}


@pytest.fixture(autouse=True)
def _jobs_dir(tmp_path, settings):
    settings.SERVICEBOOK_JOBS_DIR = tmp_path / "jobs"
    with override_settings(TASKS=IMMEDIATE):
        yield


def upload(path=SNOW):
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")


def start_import(user, capture, **extra):
    with capture(execute=True):
        job = jobs.start(
            actor=user, kind=IMPORT_TICKETS, params={**PARAMS, **extra}, upload=upload()
        )
    job.refresh_from_db()
    return job


def test_an_import_job_runs_and_records_its_result(users, django_capture_on_commit_callbacks):
    before = Ticket.objects.count()
    job = start_import(users["manager"], django_capture_on_commit_callbacks)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.summary["rows_read"] == 310
    assert job.summary["rows_imported"] + job.summary["rows_rejected"] == 310
    assert (job.summary["tickets_created"], job.summary["rows_rejected"]) == (44, 4)
    assert Ticket.objects.count() == before + 44
    assert job.attempts == 1 and job.started_at and job.finished_at
    assert job.done == job.total == 100
    rejects = Path(job.rejects_file).read_text(encoding="utf-8").splitlines()
    assert rejects[0].startswith("row,reason,number") and len(rejects) == 5
    assert [e.action for e in job.events.all()] == ["queued", "started", "succeeded"]
    # the same file again changes nothing (imports are idempotent by record id)
    again = start_import(users["manager"], django_capture_on_commit_callbacks)
    assert again.summary["tickets_created"] == 0 and Ticket.objects.count() == before + 44


def test_a_failed_job_keeps_its_one_line_reason_and_can_be_retried(
    users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(
            actor=users["manager"],
            kind=IMPORT_TICKETS,
            params={**PARAMS, "agreement": "NO-SUCH"},
            upload=upload(),
        )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED  # unknown agreement: every row rejected, not a failure
    assert job.summary["rows_imported"] == 0 and job.summary["rows_rejected"] == 310

    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(
            actor=users["manager"], kind=IMPORT_TICKETS, params=PARAMS, upload=upload()
        )
        saved = Path(job.input_file)
        shutil.move(saved, saved.with_suffix(".away"))  # the file vanished before the worker ran
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "the file servicenow_incidents.csv is no longer there"
    shutil.move(saved.with_suffix(".away"), saved)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.retry(actor=users["manager"], job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.error == "" and job.attempts == 2
    assert [e.action for e in job.events.all()][-3:] == ["retried", "started", "succeeded"]


def test_only_failed_jobs_are_retried(users, django_capture_on_commit_callbacks):
    job = start_import(users["manager"], django_capture_on_commit_callbacks)
    with pytest.raises(Exception, match="succeeded and cannot become queued"):
        jobs.retry(actor=users["manager"], job=job)


def test_who_may_start_a_job(users):
    for name in ("external", "internal", "change", "finance"):
        with pytest.raises(PermissionDenied):
            jobs.start(actor=users[name], kind=IMPORT_TICKETS, params=PARAMS, upload=upload())
    assert not Job.objects.exists()


def test_a_job_left_running_by_a_dead_worker_is_marked_interrupted(users, settings):
    job = Job.objects.create(kind=RECOMPUTE, title="t", user=users["manager"])
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    fresh = Job.objects.create(kind=RECOMPUTE, title="t", user=users["manager"])
    Job.objects.filter(pk=fresh.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    fresh.status = JobStatus.RUNNING
    progress = jobs.Progress(fresh)
    progress.beat()  # its worker is alive: a heartbeat just now
    assert jobs.recover_interrupted() == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, jobs.INTERRUPTED)
    assert fresh.status == JobStatus.RUNNING


def test_progress_is_read_from_the_file_while_running(users):
    job = Job.objects.create(kind=RECOMPUTE, title="t", user=users["manager"])
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    job.refresh_from_db()
    progress = jobs.Progress(job)
    progress(40, 200, "halfway there")
    figures = jobs.read_progress(job)
    assert (figures["done"], figures["total"], figures["message"]) == (40, 200, "halfway there")
    assert jobs.percent(figures) == 20
    assert figures["heartbeat"] <= time.time()


def test_start_once_queues_one_recomputation(users):
    first = jobs.start_once(kind=RECOMPUTE, params={})
    second = jobs.start_once(kind=RECOMPUTE, params={})
    assert first.pk == second.pk
    assert Job.objects.filter(kind=RECOMPUTE, status=JobStatus.QUEUED).count() == 1


# --- pages ---------------------------------------------------------------------------------


def test_the_import_page_starts_a_job_and_shows_its_page(
    users, web_for, django_capture_on_commit_callbacks
):
    client = web_for(users["manager"])
    assert client.get(reverse("levels:import-tickets")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("levels:import-tickets"),
            {**PARAMS, "source": "", "file": upload()},
        )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Succeeded" in page and 'data-testid="job-rejects"' in page
    assert "every 1s" not in page  # finished: no more polling
    rejects = client.get(reverse("web:job-rejects", args=[job.pk]))
    assert rejects.status_code == 200
    assert b"".join(rejects.streaming_content).startswith(b"row,reason,number")
    assert str(job.pk) in client.get(reverse("web:jobs")).content.decode()


def test_a_running_job_page_polls_and_a_failed_one_offers_retry(users, web_for):
    job = Job.objects.create(kind=IMPORT_TICKETS, title="Ticket import", user=users["manager"])
    client = web_for(users["manager"])
    page = client.get(reverse("web:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and reverse("web:job-progress", args=[job.pk]) in page
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="cannot read x.csv: bad")
    fragment = client.get(reverse("web:job-progress", args=[job.pk])).content.decode()
    assert "cannot read x.csv: bad" in fragment and "Retry" in fragment
    assert "hx-trigger" not in fragment


def test_a_job_is_seen_by_its_owner_and_the_admin_only(users, web_for, client):
    job = Job.objects.create(kind=IMPORT_TICKETS, title="Ticket import", user=users["internal"])
    url = reverse("web:job", args=[job.pk])
    assert web_for(users["internal"]).get(url).status_code == 200
    for name in ("external", "manager"):
        client.force_login(users[name])
        assert client.get(url).status_code == 404
        assert client.post(reverse("web:job-retry", args=[job.pk])).status_code == 404
        assert "Ticket import" not in client.get(reverse("web:jobs")).content.decode()
    client.force_login(users["admin"])
    assert client.get(url).status_code == 200


def test_outages_are_imported_from_the_page(
    users, web_for, django_capture_on_commit_callbacks, tmp_path
):
    from servicebook.catalog.models import Service
    from servicebook.levels.models import Outage

    service = Service.objects.order_by("pk").first()
    path = tmp_path / "outages.csv"
    path.write_text(
        "reference,service,start,end,planned\n"
        f"OUT-T-1,{service.code},2026-02-03T09:00:00,2026-02-03T10:00:00,false\n"
        "OUT-T-2,no-such-service,2026-02-03T09:00:00,,false\n",
        encoding="utf-8",
    )
    client = web_for(users["manager"])
    listing = client.get(reverse("levels:list")).content.decode()
    assert reverse("levels:import-tickets") in listing
    assert reverse("levels:import-tickets") not in (
        web_for(users["finance"]).get(reverse("levels:list")).content.decode()
    )
    client = web_for(users["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("levels:import-outages"), {"time_zone": "UTC", "file": upload(path)}
        )
    job = Job.objects.get()
    assert response["Location"] == reverse("web:job", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.summary["rows_read"], job.summary["rows_imported"]) == (2, 1)
    assert Outage.objects.filter(reference="OUT-T-1").exists()
    assert "unknown service code" in Path(job.rejects_file).read_text(encoding="utf-8")


@pytest.mark.parametrize("owner", ["manager", "internal"])
def test_every_job_route_answers_the_owner_and_the_admin_only(users, client, owner, tmp_path):
    job = Job.objects.create(kind=IMPORT_TICKETS, title="Ticket import", user=users[owner])
    rejects = tmp_path / "jobs" / str(job.pk) / "rejects.csv"
    rejects.parent.mkdir(parents=True)
    rejects.write_text("row,reason\n1,bad\n", encoding="utf-8")
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, rejects_file=str(rejects), summary={"rows_rejected": 1}
    )
    reads = ["web:job", "web:job-progress", "web:job-rejects"]
    for name in ("admin", "manager", "finance", "change", "senior", "internal", "external"):
        client.force_login(users[name])
        allowed = name in (owner, "admin")
        for route in reads:
            status = client.get(reverse(route, args=[job.pk])).status_code
            assert status == (200 if allowed else 404), (name, route, status)
        retry = client.post(reverse("web:job-retry", args=[job.pk]))
        # seen, the retry is refused: a customer user may not start an import (403), and
        # staff are told only a failed job is retried (back to its page)
        expected = (403 if users[name].customer_id else 302) if allowed else 404
        assert retry.status_code == expected, (name, retry.status_code)
        assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED  # only failed jobs retry
    client.logout()
    for route in reads:
        assert client.get(reverse(route, args=[job.pk])).status_code == 302  # to sign in


def test_a_running_job_without_news_from_its_worker_says_so(users, web_for):
    job = Job.objects.create(kind=IMPORT_TICKETS, title="Ticket import", user=users["manager"])
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    job.refresh_from_db()
    progress = jobs.Progress(job)
    progress(30, 100, "writing tickets")
    url = reverse("web:job-progress", args=[job.pk])
    fresh = web_for(users["manager"]).get(url).content.decode()
    assert "writing tickets" in fresh and 'aria-valuenow="30"' in fresh
    assert "job-stalled" not in fresh
    data = json.loads(progress.path.read_text())
    progress.path.write_text(json.dumps({**data, "heartbeat": time.time() - 600}))
    assert "job-stalled" in web_for(users["manager"]).get(url).content.decode()


def test_the_owner_is_told_how_a_job_ended(users, django_capture_on_commit_callbacks):
    from servicebook.notifications.kinds import Kind
    from servicebook.notifications.models import Notification

    Notification.objects.filter(kind=Kind.JOB).delete()
    job = start_import(users["manager"], django_capture_on_commit_callbacks)
    (done,) = Notification.objects.filter(kind=Kind.JOB, recipient=users["manager"])
    assert done.subject == f"{job.title}: done"
    assert done.body == "310 read, 306 imported, 4 rejected"
    assert done.link == f"/jobs/{job.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        failing = jobs.start(
            actor=users["manager"], kind=IMPORT_TICKETS, params=PARAMS, upload=upload()
        )
        Path(failing.input_file).unlink()
    failed = Notification.objects.get(kind=Kind.JOB, link=f"/jobs/{failing.pk}/")
    assert failed.subject.endswith(": failed") and "no longer there" in failed.body
