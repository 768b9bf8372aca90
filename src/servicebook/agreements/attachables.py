"""Contracts take attached files (issue 18): the signed contract, annexes. Seen by whoever sees
the agreement; added by the service managers who edit agreements (``core.attachments``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.core.attachments import AttachableKind
from servicebook.core.roles import Role, has_role, is_provider_staff


def _may_attach(user, agreement) -> bool:
    return is_provider_staff(user) and has_role(user, Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


KIND = AttachableKind(
    name="agreement",
    title="agreement",
    model=Agreement,
    visible=lambda user: Agreement.objects.visible_to(user),
    may_attach=_may_attach,
    page=lambda agreement: reverse("agreements:detail", args=[agreement.pk]),
)
