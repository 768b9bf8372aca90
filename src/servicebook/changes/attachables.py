"""Requests for change take attached files (issue 18): plans, test reports, back-out procedures.
Seen by whoever sees the change (staff; a customer user: the changes that affect its customer);
added by the change managers (``servicebook.core.attachments``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.changes.models import ChangeRequest
from servicebook.changes.services.requests import CHANGE_MANAGERS
from servicebook.core.attachments import AttachableKind
from servicebook.core.roles import has_role, is_provider_staff


def _may_attach(user, change) -> bool:
    return is_provider_staff(user) and has_role(user, *CHANGE_MANAGERS)


KIND = AttachableKind(
    name="change",
    title="request for change",
    model=ChangeRequest,
    visible=lambda user: ChangeRequest.objects.visible_to(user),
    may_attach=_may_attach,
    page=lambda change: reverse("changes:detail", args=[change.pk]),
)
