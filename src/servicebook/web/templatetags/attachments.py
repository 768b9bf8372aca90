"""``{% attachment_panel record as panel %}``: what ``web/attachments.html`` shows of a record's
attached files, and whether the user may add one (the same question the upload view asks)."""

from __future__ import annotations

from django import template
from django.urls import reverse

from servicebook.core import attachments

register = template.Library()


@register.simple_tag(takes_context=True)
def attachment_panel(context, record):
    """The record's files for the signed-in user, or None when they may not see the record."""
    request = context.get("request")
    user = getattr(request, "user", None)
    kind = attachments.kind_of(record) if record is not None else None
    if kind is None or user is None or not attachments.may_see(user, record):
        return None
    can_attach = bool(kind.may_attach(user, record))
    return {
        "kind": kind,
        "key": f"{kind.name}-{record.pk}",
        "files": list(attachments.attachments_of(record)),
        "can_attach": can_attach,
        "upload_url": reverse(f"web:attach-{kind.name}", args=[record.pk]) if can_attach else "",
        "limit": attachments.size_text(attachments.max_bytes()),
    }
