"""Every write of notifications: notify people, deliver e-mail, send digests, mark read, choose.

``notify`` is what the domain apps call. It writes one inbox row per recipient and, after the
transaction commits, asks the worker to e-mail those whose channel for that kind is e-mail; rows
for the daily digest wait for :func:`send_digests`. E-mail goes through Django's e-mail framework
(SMTP from ``EMAIL_HOST``…, or files under ``var/mail/``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from servicebook.notifications.kinds import DEFAULT_CHANNEL, Channel, Delivery, Kind
from servicebook.notifications.models import Notification, Preference
from servicebook.policy import user_may_see_cost

#: Words an e-mail to somebody who may not see cost must not contain (R7).
_COST_WORDS = re.compile(r"\b(cost|costs|costing|margin|margins)\b", re.IGNORECASE)


class DisclosureError(ValueError):
    """A message would tell cost or margin to a person who may not see it."""


@dataclass(frozen=True)
class Message:
    """What one person is told: a subject line, a short text and the page to act on."""

    subject: str
    body: str = ""
    link: str = ""


def one_line(text: str) -> str:
    """A subject line: line breaks and runs of spaces become one space (an e-mail subject with
    a line break cannot be sent, so a summary typed on two lines must not stop the message)."""
    return " ".join(str(text).split())


def _check_disclosure(user, message: Message) -> None:
    if user_may_see_cost(user):
        return
    found = _COST_WORDS.search(f"{message.subject}\n{message.body}")
    if found:
        raise DisclosureError(
            f"a message to {user.get_username()} would mention {found.group(0)!r}, "
            "which they may not see"
        )


def channel_of(user, kind: str) -> str:
    """The channel ``user`` chose for ``kind`` (e-mail when they never chose)."""
    chosen = Preference.objects.filter(user=user, kind=kind).values_list("channel", flat=True)
    return next(iter(chosen), DEFAULT_CHANNEL)


def _delivery(user, kind: str) -> str:
    channel = channel_of(user, kind)
    if channel == Channel.INBOX:
        return Delivery.INBOX_ONLY
    if not user.email:
        return Delivery.NO_ADDRESS
    return Delivery.DIGEST if channel == Channel.DIGEST else Delivery.PENDING


@transaction.atomic
def notify(
    *,
    kind: str,
    recipients: Iterable,
    message: Message | Callable[[object], Message],
) -> list[Notification]:
    """Tell each recipient (users; duplicates and inactive users left out) about ``kind``.

    ``message`` is one :class:`Message` or a function writing it for each recipient (so an
    internal customer's text may name the cost an external customer's must not). A message that
    would disclose cost to somebody who may not see it raises :class:`DisclosureError` and
    nothing is written.
    """
    Kind(kind)  # an unknown kind is a programming error: ValueError
    rows = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        text = message(user) if callable(message) else message
        _check_disclosure(user, text)
        rows.append(
            Notification(
                recipient=user,
                kind=kind,
                subject=one_line(text.subject)[:200],
                body=text.body,
                link=text.link[:300],
                delivery=_delivery(user, kind),
            )
        )
    created = Notification.objects.bulk_create(rows)
    pending = [row.pk for row in created if row.delivery == Delivery.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue(pending))
    return created


def _enqueue(ids: list[int]) -> None:
    from servicebook.notifications.tasks import deliver_notifications

    deliver_notifications.enqueue(ids)


def absolute(link: str) -> str:
    """A link as the e-mail reader can follow it (``SERVICEBOOK_BASE_URL``)."""
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.SERVICEBOOK_BASE_URL.rstrip("/") + link


def _text(notification: Notification) -> str:
    parts = [notification.body.strip(), absolute(notification.link)]
    footer = "You receive this because of your notification settings in Servicebook."
    return "\n\n".join([part for part in parts if part] + [footer]) + "\n"


def deliver(ids: Iterable[int]) -> dict[str, int]:
    """E-mail the pending notifications among ``ids``; each is marked sent or failed (with the
    reason) on its own, so one bad address does not hold back the others."""
    sent = failed = 0
    rows = list(
        Notification.objects.filter(pk__in=list(ids), delivery=Delivery.PENDING).select_related(
            "recipient"
        )
    )
    if not rows:  # sent already (a retried task): no connection to the mail server
        return {"sent": 0, "failed": 0}
    with get_connection() as connection:
        for row in rows:
            email = EmailMessage(
                subject=row.subject,
                body=_text(row),
                to=[row.recipient.email],
                connection=connection,
            )
            try:
                email.send()
            except Exception as error:
                Notification.objects.filter(pk=row.pk).update(
                    delivery=Delivery.FAILED, error=str(error).splitlines()[0][:300]
                )
                failed += 1
                continue
            Notification.objects.filter(pk=row.pk).update(
                delivery=Delivery.SENT, emailed_at=timezone.now()
            )
            sent += 1
    return {"sent": sent, "failed": failed}


def send_digests(*, now: datetime | None = None) -> dict[str, int]:
    """One e-mail per person gathering their digest notifications written before ``now``."""
    now = now or timezone.now()
    waiting = (
        Notification.objects.filter(delivery=Delivery.DIGEST, created_at__lte=now)
        .select_related("recipient")
        .order_by("recipient_id", "created_at", "pk")
    )
    by_user: dict[int, list[Notification]] = {}
    for row in waiting:
        by_user.setdefault(row.recipient_id, []).append(row)
    sent = 0
    with get_connection() as connection:
        for rows in by_user.values():
            user = rows[0].recipient
            lines = [f"- {row.subject}\n  {absolute(row.link)}".rstrip() for row in rows]
            EmailMessage(
                subject=f"Servicebook: {len(rows)} notification{'s' * (len(rows) != 1)} today",
                body="What happened since your last digest:\n\n" + "\n".join(lines) + "\n",
                to=[user.email],
                connection=connection,
            ).send()
            Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
                delivery=Delivery.SENT, emailed_at=timezone.now()
            )
            sent += 1
    return {"digests": sent, "notifications": sum(len(rows) for rows in by_user.values())}


@transaction.atomic
def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when ``ids`` is None)."""
    rows = Notification.objects.visible_to(user).unread()
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


@transaction.atomic
def set_channels(*, user, channels: dict[str, str]) -> None:
    """Record the user's channel for each kind given (unknown kinds or channels: ValueError)."""
    for kind, channel in channels.items():
        Kind(kind)
        Channel(channel)
        Preference.objects.update_or_create(user=user, kind=kind, defaults={"channel": channel})


def told_links(kind: str) -> set[str]:
    """The links already notified for ``kind``: what a "once per thing" notice (an invoice fallen
    overdue, a target at risk this month) skips on its next run."""
    return set(Notification.objects.filter(kind=kind).values_list("link", flat=True))


def staff_with(*roles: str):
    """Active provider users (no customer) holding one of ``roles``: who to tell on the
    provider's side."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True, customer__isnull=True, groups__name__in=roles)
        .distinct()
        .order_by("pk")
    )
