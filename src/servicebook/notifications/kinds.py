"""The kinds of notification a user can choose a channel for (docs/notifications.md)."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    """What a notification is about; each user picks a channel per kind."""

    APPROVAL = "approval", "Approvals and sign-offs waiting for you"
    CHANGE_TASK = "change_task", "Changes to accept and change tasks"
    SURVEY = "survey", "Surveys to answer"
    OVERDUE_INVOICE = "overdue_invoice", "Overdue invoices to chase"
    TARGET_AT_RISK = "target_at_risk", "Service level targets at risk"
    TICKET_AT_RISK = "ticket_at_risk", "Tickets near their SLA target"
    IMPROVEMENT_ACTION = "improvement_action", "Improvement actions you own"
    BREACH = "breach", "Service level breaches"
    CREDIT = "credit", "Service credits"
    SUSPENSION = "suspension", "Customer suspensions"
    ORDER = "order", "Orders and their approval"
    TICKET = "ticket", "Tickets you raised or follow"
    JOB = "job", "Background jobs you started"
    RENEWAL = "renewal", "Agreements coming up for renewal, ending or given notice"


class Channel(models.TextChoices):
    """How a user is told: an e-mail at once, only the inbox, or one e-mail a day."""

    EMAIL = "email", "E-mail at once"
    INBOX = "inbox", "Inbox only"
    DIGEST = "digest", "Daily digest e-mail"


class Delivery(models.TextChoices):
    """Where a notification's e-mail stands."""

    PENDING = "pending", "Waiting for the worker"
    SENT = "sent", "E-mailed"
    DIGEST = "digest", "Waiting for the daily digest"
    INBOX_ONLY = "inbox_only", "Inbox only"
    NO_ADDRESS = "no_address", "No e-mail address"
    FAILED = "failed", "Sending failed"


DEFAULT_CHANNEL = Channel.EMAIL
