"""Design specifications take attached files (issue 18): drawings, requirement documents. Seen
by whoever sees the specification (staff; a customer user: the designs made with its customer);
added by the service managers who edit the catalog (``servicebook.core.attachments``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.catalog.models import DesignSpecification
from servicebook.core.attachments import AttachableKind
from servicebook.core.roles import Role, has_role, is_provider_staff


def _may_attach(user, specification) -> bool:
    return is_provider_staff(user) and has_role(user, Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


KIND = AttachableKind(
    name="specification",
    title="design specification",
    model=DesignSpecification,
    visible=lambda user: DesignSpecification.objects.visible_to(user),
    may_attach=_may_attach,
    page=lambda specification: reverse("catalog:detail", args=[specification.service_id]),
)
