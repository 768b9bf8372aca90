"""Base models shared by every app: timestamps, the audit event row, the user."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


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
