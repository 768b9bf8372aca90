"""Run background jobs inline in a test: django-tasks' ImmediateBackend, and the callbacks that
queue them run when the test's transaction would commit (decision 0015)."""

from __future__ import annotations

from contextlib import contextmanager

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@contextmanager
def inline_jobs(settings, capture, folder):
    """``with inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path): client.post…``"""
    settings.TASKS = IMMEDIATE
    settings.SERVICEBOOK_JOBS_DIR = folder / "jobs"
    with capture(execute=True):
        yield
