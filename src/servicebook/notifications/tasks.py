"""The notification work the worker runs (django-tasks, database backend)."""

from __future__ import annotations

from django_tasks import task

from servicebook.notifications import services


@task()
def deliver_notifications(ids: list[int]) -> dict[str, int]:
    """E-mail the notifications ``ids`` still pending."""
    return services.deliver(ids)


@task()
def send_digests() -> dict[str, int]:
    """Send every waiting daily digest (run once a day: ``servicebook notifications digest``)."""
    return services.send_digests()
