"""Base models shared by every app: timestamps, the audit event row, the user."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from servicebook.core import attachments


class TimeStampedModel(models.Model):
    """A row that remembers when it was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class EventModel(models.Model):
    """An audit row for one workflow step: who did it, when, from which state to which, and why.

    Concrete event models add the foreign key to the object whose history they record. Event rows
    are written by services only and never changed.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        arrow = f" {self.from_state} → {self.to_state}" if self.to_state else ""
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}{arrow}"


class User(AbstractUser):
    """A person who signs in. Provider staff have no customer; a customer user belongs to one."""

    customer = models.ForeignKey(
        "parties.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="Set for customer users: they see only this customer's objects.",
    )

    class Meta:
        db_table = "core_user"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobQuerySet(models.QuerySet):
    """Who sees a job: its owner; provider admins see every job (a customer user never sees
    another user's, let alone another customer's)."""

    def visible_to(self, user):
        from servicebook.core.roles import Role, has_role, is_provider_staff

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if is_provider_staff(user) and has_role(user, Role.PROVIDER_ADMIN):
            return self
        return self.filter(user=user)


class Job(models.Model):
    """Work started from the web (an import, a period close, a recomputation) that runs in the
    background worker (``servicebook worker``): what it is, who started it, how far it got and
    what came of it. The kinds of job are offered by the apps (``servicebook.ports.job_kinds``).
    """

    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)
    input_file = models.CharField(max_length=300, blank=True)
    rejects_file = models.CharField(max_length=300, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "status"], name="core_job_kind_status")]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.title}"


class JobEvent(EventModel):
    """One step of a job (queued, started, succeeded, failed, retried): the audit trail."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")


class AttachmentQuerySet(models.QuerySet):
    """Who sees an attached file: whoever may see its record (each app's ``visible_to``,
    asked through the kinds the apps declare; ``servicebook.core.attachments``)."""

    def visible_to(self, user):
        return self.filter(attachments.visible_filter(user))


class Attachment(models.Model):
    """A file attached to a record (a contract, due-diligence evidence, a design specification,
    a change): its original name, size and type, who added it and when, and a line about it.
    The file itself is kept by the ``attachments`` storage (``var/attachments`` by default)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(
        storage=attachments.attachment_storage, upload_to=attachments.stored_name, max_length=400
    )
    filename = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="core_attachment_record"),
        ]

    def __str__(self) -> str:
        return self.filename
