"""One submission, one record: keys for writes that must not happen twice.

A credit note or a payment cannot be deleted once posted, so a double click, the browser's
*resend* or an API client retrying after a time-out must not record it twice. Each such form
carries a key of its own (:func:`key_field`), an API client sends an ``Idempotency-Key`` header,
and the service stores the key with what it wrote (a unique column): the same key again returns
the first record instead of writing a second. The service looks the key up after locking the
row the write depends on (the invoice), so two submissions at once also give one record.
"""

from __future__ import annotations

import uuid

from django import forms
from drf_spectacular.utils import OpenApiParameter

from servicebook.core.errors import DomainError

KEY_MAX = 64
HEADER = "Idempotency-Key"


def checked_key(key: str | None) -> str | None:
    """The key, stripped, or None when there is none; refuses a key no form or client makes."""
    key = (key or "").strip()
    if not key:
        return None
    if len(key) > KEY_MAX or not key.isprintable() or not key.isascii():
        raise DomainError(
            f"a submission key is 1 to {KEY_MAX} printable ASCII characters (e.g. a UUID)",
            code="bad_key",
            field="request_key",
        )
    return key


def key_field() -> forms.CharField:
    """A hidden form field holding a new key each time the form is shown."""
    return forms.CharField(
        widget=forms.HiddenInput, required=False, initial=lambda: uuid.uuid4().hex
    )


def key_of(request) -> str | None:
    """The API request's ``Idempotency-Key`` header, if any."""
    return request.headers.get(HEADER)


def earlier_write(queryset, key: str | None, *, same: dict, elsewhere: str, label):
    """What the submission ``key`` wrote already (marked ``repeated``), or None; ``queryset``
    holds the records with a ``request_key``. ``same``: the fields the earlier record shares
    with this submission (its invoice, its month); another value is the key reused for another
    write (``elsewhere``: "on another invoice"), refused. Call it with the row the write depends
    on locked (the invoice, the month), so that a second submission at once waits for the
    first's record."""
    if not key:
        return None
    earlier = queryset.filter(request_key=key).first()
    if earlier is None:
        return None
    if any(getattr(earlier, name) != value for name, value in same.items()):
        raise DomainError(
            f"this submission recorded {label(earlier)} {elsewhere}: send a new key for a new one",
            code="key_reused",
            field="request_key",
        )
    earlier.repeated = True
    return earlier


def header_parameter(what: str) -> OpenApiParameter:
    """The OpenAPI description of the header for an endpoint that records ``what``."""
    return OpenApiParameter(
        HEADER,
        str,
        OpenApiParameter.HEADER,
        required=False,
        description=f"Up to {KEY_MAX} printable characters, e.g. a UUID. Sending the same key "
        f"again returns the {what} it recorded (200) instead of recording another.",
    )


def key_model_field(what: str, did: str = "recorded", doing: str = "recording"):
    """The model column storing the key (unique; empty for writes made without one)."""
    from django.db import models

    return models.CharField(
        max_length=KEY_MAX,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=f"The submission that {did} it (the form's key, or the API's {HEADER}): "
        f"the same submission again returns this {what} instead of {doing} a second one.",
    )
