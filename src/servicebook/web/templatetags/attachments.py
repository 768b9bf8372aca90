"""``{% attachment_panel record as panel %}``: what ``web/attachments.html`` shows of a record's
attached files, and whether the user may add one (the same question the upload view asks)."""

from __future__ import annotations

from types import SimpleNamespace

from django import template
from django.urls import reverse

from servicebook.core import attachments
from servicebook.core.audience import shown_event

register = template.Library()


@register.simple_tag(takes_context=True)
def attachment_panel(context, record):
    """The files of the record the page shows, and the upload form's address if the user may add
    one. The page has already checked that the user may see ``record`` (it is showing it), so
    this costs one query; the upload and download views check everything again themselves."""
    request = context.get("request")
    user = getattr(request, "user", None)
    kind = attachments.kind_of(record) if record is not None else None
    if kind is None or user is None or not user.is_authenticated:
        return None
    can_attach = bool(kind.may_attach(user, record))
    files = list(attachments.attachments_of(record))
    for file in files:  # who added it, as this viewer may know (the provider, not its people)
        by = SimpleNamespace(actor=file.uploaded_by, note="", customer_id=None)
        file.added_by = shown_event(by, user).actor
    return {
        "kind": kind,
        "key": f"{kind.name}-{record.pk}",
        "files": files,
        "can_attach": can_attach,
        "upload_url": reverse(f"web:attach-{kind.name}", args=[record.pk]) if can_attach else "",
        "limit": attachments.size_text(attachments.max_bytes()),
    }
