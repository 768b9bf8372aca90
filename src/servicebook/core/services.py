"""Plumbing shared by every app's services: permission checks, validation, event rows."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.roles import ROLE_LABELS, has_role, is_provider_staff


def require_role(actor, *roles: str, action: str) -> None:
    """Refuse unless the actor is provider staff holding one of ``roles``."""
    if actor is None:
        return  # system actions (demo loader, migrations, scheduled jobs)
    if not (is_provider_staff(actor) and has_role(actor, *roles)):
        needed = ", ".join(ROLE_LABELS.get(role, role).lower() for role in roles)
        raise PermissionDenied(f"{action} needs one of these roles: {needed}")


def save_validated(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """Run every model check (fields, clean(), constraints) then save; raise field errors."""
    instance.full_clean(exclude=list(exclude) if exclude else None)
    instance.save()


def apply_changes(instance: models.Model, changes: dict) -> dict[str, tuple]:
    """Set attributes, returning {field: (old, new)} for those that really changed."""
    changed = {}
    for name, value in changes.items():
        if not hasattr(instance, name):
            raise ValidationError({name: "unknown field"})
        old = getattr(instance, name)
        if old != value:
            changed[name] = (old, value)
            setattr(instance, name, value)
    return changed


def describe_changes(changed: dict[str, tuple]) -> str:
    return "; ".join(f"{name}: {old!r} → {new!r}" for name, (old, new) in changed.items())


def check_transition(
    what: str, from_state: str, to_state: str, transitions: dict[str, set[str]]
) -> None:
    """Refuse a workflow step the transition table does not allow, saying which and why.

    The table-only form of :meth:`servicebook.core.workflow.Workflow.check` (the same refusal),
    for the state machines not yet declared as a ``Workflow``.
    """
    from servicebook.core.workflow import check_table

    check_table(what, from_state, to_state, transitions)


#: characters XML 1.0 cannot carry (controls other than tab, line feed and carriage return):
#: text with them could be saved but never written into an e-invoice or a PDF's metadata
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def document_text(value: str | None, *, field: str, max_length: int, required: bool = True) -> str:
    """Free text a legal document will carry (a credit note's reason…): stripped, at most
    ``max_length`` characters, and only characters every document format can hold."""
    text = (value or "").strip()
    if required and not text:
        raise DomainError(f"{field}: this text is required", field=field, code="required")
    if len(text) > max_length:
        raise DomainError(
            f"{field}: at most {max_length} characters ({len(text)} given)", field=field
        )
    bad = _NOT_IN_XML.search(text)
    if bad:
        raise DomainError(
            f"{field}: character U+{ord(bad.group()):04X} at position {bad.start() + 1} cannot "
            "be printed or sent in an electronic invoice",
            field=field,
        )
    return text
