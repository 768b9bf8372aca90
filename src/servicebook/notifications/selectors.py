"""Reads of notifications: the inbox, counts, the user's channels, My work."""

from __future__ import annotations

from servicebook.notifications.kinds import DEFAULT_CHANNEL, Kind
from servicebook.notifications.models import Notification, Preference
from servicebook.notifications.work import my_work

__all__ = ["channels_of", "my_work", "recent", "unread_count"]


def recent(user, limit: int = 50) -> list[Notification]:
    """The user's latest notifications, newest first."""
    return list(Notification.objects.visible_to(user)[:limit])


def unread_count(user) -> int:
    return Notification.objects.visible_to(user).unread().count()


def channels_of(user) -> dict[str, str]:
    """The user's channel for every kind (e-mail where they never chose)."""
    chosen = dict(Preference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind.value: chosen.get(kind.value, DEFAULT_CHANNEL.value) for kind in Kind}
