"""A background job's owner hears how it ended (``ports.job_finished``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.models import JobStatus
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify

_COUNTS = (("rows_read", "read"), ("rows_imported", "imported"), ("rows_rejected", "rejected"))


def tell_owner(job) -> None:
    """Succeeded: the counts; failed: the one-line reason. Nobody to tell for system jobs."""
    if job.user_id is None:
        return
    if job.status == JobStatus.SUCCEEDED:
        summary = job.summary or {}
        counts = ", ".join(f"{summary[key]:,} {word}" for key, word in _COUNTS if key in summary)
        subject, body = f"{job.title}: done", counts or "Finished."
    else:
        subject, body = f"{job.title}: failed", job.error or "The job failed."
    notify(
        kind=Kind.JOB,
        recipients=[job.user],
        message=Message(subject[:200], body, reverse("web:job", args=[job.pk])),
    )
