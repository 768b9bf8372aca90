"""Background job pages: the list (mine; every job for the provider admin), one job with a
progress bar polled by htmx, its rejects file, and Retry for a failed job (decision 0015)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, ListView

from servicebook.core import jobs
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.models import Job, JobStatus

#: Figures of a summary shown first, in this order, with these words.
COUNTS = (
    ("rows_read", "rows read"),
    ("rows_imported", "imported"),
    ("rows_rejected", "rejected"),
)


#: A summary's link to the result's own page (``link``: a path on this site) and its words.
LINK = ("link", "link_label")


def _visible(user):
    return Job.objects.visible_to(user).select_related("user")


def job_context(job: Job) -> dict:
    """What the page and its polled fragment show of a job."""
    figures = jobs.read_progress(job)
    finished = job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
    counts = [(label, job.summary[key]) for key, label in COUNTS if key in job.summary]
    hidden = {*dict(COUNTS), *LINK}
    others = [
        (key.replace("_", " "), value)
        for key, value in job.summary.items()
        if key not in hidden and not isinstance(value, dict | list)
    ]
    link = job.summary.get("link")
    beat = figures.get("heartbeat")
    stalled = job.status == JobStatus.RUNNING and bool(beat)
    stalled = stalled and time.time() - float(beat) > jobs.STALE_SECONDS
    return {
        "job": job,
        "figures": figures,
        "percent": 100 if job.status == JobStatus.SUCCEEDED else jobs.percent(figures),
        "finished": finished,
        "stalled": stalled,
        "counts": counts,
        "others": others,
        "lists": [(k.replace("_", " "), v) for k, v in job.summary.items() if isinstance(v, list)],
        "link": link if isinstance(link, str) and link.startswith("/") else None,
        "link_label": job.summary.get("link_label") or "Open the result",
        "has_rejects": bool(job.rejects_file) and (job.summary.get("rows_rejected") or 0) > 0,
    }


class JobListView(LoginRequiredMixin, ListView):
    """The user's jobs, newest first (the provider admin sees everyone's)."""

    template_name = "web/jobs.html"
    context_object_name = "jobs"
    paginate_by = 50

    def get_queryset(self):
        return _visible(self.request.user)


class JobDetailView(LoginRequiredMixin, DetailView):
    """One job: status, progress (polled every second while it runs), summary, rejects, retry."""

    template_name = "web/job.html"
    context_object_name = "job"

    def get_queryset(self):
        return _visible(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**job_context(self.object), **kwargs)


class JobProgressView(JobDetailView):
    """The fragment htmx polls: the status block alone."""

    template_name = "web/_job_status.html"


class JobRejectsView(LoginRequiredMixin, View):
    """Download the job's rejected rows (CSV: row number, reason, the row's columns)."""

    def get(self, request, pk):
        job = get_object_or_404(_visible(request.user), pk=pk)
        path = Path(job.rejects_file) if job.rejects_file else None
        root = Path(settings.SERVICEBOOK_JOBS_DIR).resolve()
        if path is None or not path.is_file() or root not in path.resolve().parents:
            raise Http404("this job has no rejects file")
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=f"job-{job.pk}-rejects.csv"
        )


class JobRetryView(LoginRequiredMixin, View):
    """Queue a failed job again."""

    def post(self, request, pk):
        job = get_object_or_404(_visible(request.user), pk=pk)
        try:
            jobs.retry(actor=request.user, job=job)
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.info(request, "The job is queued again.")
        return redirect("web:job", pk=job.pk)


def start_job(request, *, kind: str, params: dict, upload=None, title: str = ""):
    """Queue a job for the signed-in user and send them to its page (the views that start
    imports and closes call this); a refusal by role is a 403."""
    try:
        job = jobs.start(actor=request.user, kind=kind, params=params, upload=upload, title=title)
    except DomainPermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    return redirect("web:job", pk=job.pk)
