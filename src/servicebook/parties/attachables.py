"""Due-diligence evidence takes attached files (issue 18): extracts, identity documents, the
requester's mandate. Provider-internal like the due diligence itself: staff see it, customer users
never do; added by the staff who carry out due diligence (``servicebook.core.attachments``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.attachments import AttachableKind
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.parties.models import DueDiligence


def _visible(user):
    if is_provider_staff(user):
        return DueDiligence.objects.all()
    return DueDiligence.objects.none()


def _may_attach(user, due_diligence) -> bool:
    return is_provider_staff(user) and has_role(user, Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


KIND = AttachableKind(
    name="due-diligence",
    title="due diligence",
    model=DueDiligence,
    visible=_visible,
    may_attach=_may_attach,
    page=lambda due_diligence: reverse("parties:detail", args=[due_diligence.customer_id]),
)
