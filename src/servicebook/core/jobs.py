"""Background jobs: work started from the web that the worker (``servicebook worker``) runs.

A :class:`~servicebook.core.models.Job` row says what was asked, by whom, and what came of it;
one django-tasks task, :func:`run_job`, runs any job by looking its kind up
(:mod:`servicebook.core.jobkinds`, offered by the apps). Decision 0015 explains the choices:

- **Progress** goes to a small JSON file in the job's folder (``SERVICEBOOK_JOBS_DIR/<id>/``),
  replaced atomically, never to the database: on SQLite the import's write transaction holds
  the one write lock while it runs, so the row is only written before and after the work. The
  job page reads the file while the job runs. A heartbeat thread touches the same file every
  few seconds, so a job whose worker died is recognizable.
- **Killed mid-way**: the work is one database transaction (the import services are atomic),
  so nothing is half-written; a job left running by a dead worker is marked failed
  ("interrupted: the worker stopped") by the next worker that starts or runs a job, and can
  be retried; the imports are idempotent, so a rerun gives the same result.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.jobkinds import JobKind, kind_named, tell_finished
from servicebook.core.models import Job, JobEvent, JobStatus
from servicebook.core.spreadsheets import safe_row
from servicebook.core.workflow import Workflow, register

logger = logging.getLogger(__name__)

JOB = register(
    Workflow(
        what="job",
        model=Job,
        transitions={
            JobStatus.QUEUED: {JobStatus.RUNNING, JobStatus.FAILED},
            JobStatus.RUNNING: {JobStatus.SUCCEEDED, JobStatus.FAILED},
            JobStatus.SUCCEEDED: set(),
            JobStatus.FAILED: {JobStatus.QUEUED},
        },
        event_model=JobEvent,
        subject_field="job",
        initial=(JobStatus.QUEUED,),
        name=lambda job: str(job.pk or ""),
    )
)

#: A running job whose heartbeat is older than this is taken for interrupted (the environment's
#: ``SERVICEBOOK_JOB_STALE_SECONDS`` may shorten it, as the tests do).
STALE_SECONDS = int(os.environ.get("SERVICEBOOK_JOB_STALE_SECONDS") or 30)
#: How often the worker's heartbeat thread touches the progress file of the running job.
HEARTBEAT_SECONDS = max(0.2, min(3.0, STALE_SECONDS / 4))
#: How often, at most, a progress report is written.
PROGRESS_EVERY = 0.3
INTERRUPTED = "interrupted: the worker stopped"


# --- files ---------------------------------------------------------------------------------


def folder(job: Job) -> Path:
    """The job's folder (uploads, progress, rejects): ``SERVICEBOOK_JOBS_DIR/<id>/``."""
    path = Path(settings.SERVICEBOOK_JOBS_DIR) / str(job.pk)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_json(path: Path, data: dict) -> None:
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(data, default=str), encoding="utf-8")
    os.replace(temporary, path)


def read_progress(job: Job) -> dict:
    """What the job reported last: ``done``, ``total``, ``message``, ``heartbeat`` (epoch); the
    row's figures when there is no report (queued, or finished)."""
    figures = {"done": job.done, "total": job.total, "message": job.message, "heartbeat": None}
    path = Path(settings.SERVICEBOOK_JOBS_DIR) / str(job.pk) / "progress.json"
    if job.status == JobStatus.RUNNING and path.is_file():
        # being replaced right now: the row's figures will do
        with contextlib.suppress(OSError, ValueError):
            figures.update(json.loads(path.read_text(encoding="utf-8")))
    return figures


def percent(figures: dict) -> int | None:
    total = figures.get("total")
    if not total:
        return None
    return max(0, min(100, int(100 * (figures.get("done") or 0) / total)))


class Progress:
    """The callback a job's work reports through: ``progress(done, total=None, message="")``.

    Reports are kept in memory and written to ``progress.json`` at most every
    :data:`PROGRESS_EVERY` seconds; :meth:`beat` (the heartbeat thread) writes them too.
    """

    def __init__(self, job: Job):
        self.path = folder(job) / "progress.json"
        self.done, self.total, self.message = 0, job.total, ""
        self._lock = threading.Lock()
        self._written = 0.0

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        with self._lock:
            self.done = int(done)
            if total is not None:
                self.total = int(total)
            if message:
                self.message = message[:200]
            if time.monotonic() - self._written >= PROGRESS_EVERY:
                self._write()

    def beat(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        self._written = time.monotonic()
        data = {"done": self.done, "total": self.total, "message": self.message}
        _write_json(self.path, {**data, "heartbeat": time.time()})


class _Heartbeat(threading.Thread):
    def __init__(self, progress: Progress):
        super().__init__(daemon=True, name="job-heartbeat")
        self.progress, self.stopped = progress, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            self.progress.beat()


def write_rejects(job: Job, columns: Sequence[str], rejects: Iterable[tuple[int, Any, str]]) -> str:
    """Write a rejects file (the row number, the reason, then the row's columns) into the job's
    folder; returns its path (also stored on the job by :func:`run_job`)."""
    path = folder(job) / "rejects.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "reason", *columns])
        for number, row, reason in rejects:
            cells = [row.get(c, "") for c in columns] if hasattr(row, "get") else list(row or ())
            writer.writerow(safe_row([number, reason, *cells]))
    return str(path)


def save_upload(job: Job, upload) -> Path:
    """Keep an uploaded file in the job's folder (the job reads it from there, and a retry too)."""
    name = Path(getattr(upload, "name", "") or "upload").name or "upload"
    path = folder(job) / f"input-{name}"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


# --- starting, retrying ------------------------------------------------------------------------


def _may_start(kind: JobKind, user) -> None:
    if user is not None and not kind.may_start(user):
        raise PermissionDenied(f"{kind.title} is not something your role may start")


def _enqueue(job: Job) -> None:
    """Queue the job's task once the row is committed (at once outside a transaction)."""

    def send() -> None:
        result = run_job.enqueue(job.pk)
        Job.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id)[:64])

    transaction.on_commit(send)


def start(*, actor, kind: str, params: dict | None = None, title: str = "", upload=None) -> Job:
    """Queue a job of ``kind`` for ``actor`` (``upload``: a file it works on, kept in the job's
    folder); the worker runs it. Refused when the actor's role may not start it."""
    job_kind = kind_named(kind)
    _may_start(job_kind, actor)
    with transaction.atomic():
        job = _new_job(job_kind, actor, params, title)
        if upload is not None:
            job.input_file = str(save_upload(job, upload))
            job.save(update_fields=["input_file"])
        JOB.record(job, actor, "queued", to_state=JobStatus.QUEUED)
        _enqueue(job)
    return job


def _new_job(job_kind: JobKind, actor, params: dict | None, title: str) -> Job:
    job = Job(
        kind=job_kind.name,
        title=(title or job_kind.title)[:200],
        user=actor,
        params=params or {},
    )
    job.save()
    return job


def start_once(*, kind: str, params: dict | None = None, title: str = "") -> Job:
    """Queue a system job of ``kind`` unless one with the same parameters is already queued
    (a recomputation asked for by several changes runs once)."""
    queued = Job.objects.filter(kind=kind, status=JobStatus.QUEUED)
    for job in queued:
        if job.params == (params or {}):
            return job
    return start(actor=None, kind=kind, params=params, title=title)


@transaction.atomic
def retry(*, actor, job: Job) -> Job:
    """Queue a failed job again (same parameters, same input file)."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    _may_start(kind_named(job.kind), actor)
    job.error, job.summary, job.rejects_file = "", {}, ""
    job.done, job.message, job.task_id = 0, "", ""
    job.started_at = job.finished_at = None
    JOB.move(job, JobStatus.QUEUED, actor=actor, action="retried")
    _enqueue(job)
    return job


def queued_or_running(kind: str) -> bool:
    return Job.objects.filter(kind=kind, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).exists()


# --- running ----------------------------------------------------------------------------------


def one_line(error: BaseException) -> str:
    """The reason a job failed, in one line people can read."""
    if isinstance(error, DomainError):
        text = error.message
    elif isinstance(error, ValidationError):
        text = "; ".join(error.messages)
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:300] or type(error).__name__


def _finish(job: Job, status: str, *, action: str, note: str = "", **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.finished_at = timezone.now()
    with transaction.atomic():
        JOB.move(job, status, actor=None, action=action, note=note[:300])
    try:
        tell_finished(job)
    except Exception:  # telling people must never undo or hide the job's outcome
        logger.exception("job %s finished, but telling its owner failed", job.pk)


def recover_interrupted(*, stale_seconds: float = STALE_SECONDS) -> int:
    """Mark failed the running jobs whose worker stopped (no heartbeat for ``stale_seconds``);
    returns how many. Run when a worker starts and before each job."""
    count = 0
    limit = time.time() - stale_seconds
    started_before = timezone.now() - timedelta(seconds=stale_seconds)
    for job in Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=started_before):
        beat = read_progress(job).get("heartbeat") or 0
        if beat < limit:
            _finish(job, JobStatus.FAILED, action="interrupted", error=INTERRUPTED)
            count += 1
    return count


def run_now(*, kind: str, params: dict | None = None, title: str = "") -> Job:
    """Run a system job of ``kind`` in this process, at once, recorded as the worker records a
    job (the command line's nightly checks: their outcome shows where the job's would, e.g. the
    ledger page's last verification). The job, finished."""
    with transaction.atomic():
        job = _new_job(kind_named(kind), None, params, title)
        JOB.record(job, None, "queued", to_state=JobStatus.QUEUED)
    _execute(job)
    job.refresh_from_db()
    return job


@task()
def run_job(job_id: int) -> str:
    """Run one job: its kind's work with a progress callback, the outcome on the row."""
    recover_interrupted()
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status != JobStatus.QUEUED:
        return "skipped"  # retried or run already
    return _execute(job)


def _execute(job: Job) -> str:
    """Run a queued job's work; its outcome (succeeded or failed, with its reason) on the row."""
    try:
        kind = kind_named(job.kind)
    except LookupError as error:
        _finish(job, JobStatus.FAILED, action="failed", error=one_line(error))
        return JobStatus.FAILED
    job.attempts += 1
    job.started_at = timezone.now()
    with transaction.atomic():
        JOB.move(job, JobStatus.RUNNING, actor=None, action="started")
    progress = Progress(job)
    progress(0, message="started")
    heartbeat = _Heartbeat(progress)
    heartbeat.start()
    try:
        summary = kind.run(job, progress)
    except Exception as error:  # every failure ends on the row with its reason
        if not isinstance(error, DomainError | ValidationError):
            logger.exception("job %s (%s) failed", job.pk, job.kind)
        job.refresh_from_db()
        _finish(job, JobStatus.FAILED, action="failed", error=one_line(error))
        return JobStatus.FAILED
    finally:
        heartbeat.stopped.set()
    job.refresh_from_db()
    summary = dict(summary or {})
    rejects = summary.pop("rejects_file", "") or ""
    _finish(
        job,
        JobStatus.SUCCEEDED,
        action="succeeded",
        summary=json.loads(json.dumps(summary, default=str)),
        rejects_file=str(rejects),
        done=progress.done if progress.total is None else (progress.total or progress.done),
        total=progress.total,
        message=progress.message,
    )
    return JobStatus.SUCCEEDED
