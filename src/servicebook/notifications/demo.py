"""Demo: the notification choices of the demo users, and a first message in each inbox.

Finance takes overdue invoices as a daily digest; everybody else keeps e-mail at once. Without
``EMAIL_HOST`` the messages are written under ``var/mail/`` by the worker.
"""

from __future__ import annotations

from django.urls import reverse

from servicebook.notifications import services
from servicebook.notifications.kinds import Channel, Kind


def load(ctx) -> None:
    users = ctx.users
    services.set_channels(user=users["finance"], channels={Kind.OVERDUE_INVOICE: Channel.DIGEST})
    services.set_channels(user=users["senior"], channels={Kind.APPROVAL: Channel.INBOX})
    services.notify(
        kind=Kind.APPROVAL,
        recipients=users.values(),
        message=services.Message(
            "Welcome to Servicebook: what waits for you is under My work",
            "My work lists the approvals, sign-offs, tasks and invoices waiting for you, oldest "
            "first. Choose how you are told about each kind of work under Notification settings.",
            reverse("notifications:my-work"),
        ),
    )
