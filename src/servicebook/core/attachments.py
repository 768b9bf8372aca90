"""Attached files: contracts, due-diligence evidence, design specifications, changes (issue 18).

One piece for every record that takes files. Core knows no app: each app declares the kinds of
its records that take attachments (an :class:`AttachableKind`: who may see such a record, who may
attach to it, its page) through ``servicebook.ports.attachables``, and :mod:`servicebook.ports`
hands core the way to read them (:func:`use_kinds`), as it does for background job kinds.

Files go through Django's storage API, to the storage named ``attachments`` in ``STORAGES``:
by default :class:`AttachmentFileStorage`, a folder under ``SERVICEBOOK_VAR_DIR`` (``var/
attachments``); object storage by setting (docs/attachments.md shows S3 with django-storages).
An attachment is seen by whoever may see its record, and added by whoever may edit it.
"""

from __future__ import annotations

import mimetypes
import os
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.db import transaction
from django.utils.functional import LazyObject, empty
from django.utils.text import get_valid_filename

from servicebook.core.errors import DomainError, PermissionDenied

#: Where attachments live in ``STORAGES`` (settings.py; docs/attachments.md).
STORAGE_ALIAS = "attachments"
#: The longest original file name kept (the stored name adds a folder and a random prefix).
MAX_NAME = 150


# --- the storage --------------------------------------------------------------------------------


class AttachmentFileStorage(FileSystemStorage):
    """The default storage: ``SERVICEBOOK_VAR_DIR/attachments`` (read when used, so a test's
    temporary var dir holds its files), or the ``location`` given in ``STORAGES``. Never served
    by URL: files go out only through the download view, which checks who may see them."""

    @property
    def base_location(self):
        given = getattr(self, "_location", None)
        return self._value_or_setting(given, Path(settings.VAR_DIR) / "attachments")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("attachments are served by the download view only")


class _Storage(LazyObject):
    """``storages["attachments"]``, looked up when first used (and again after a settings
    change in tests)."""

    def _setup(self):
        self._wrapped = storages[STORAGE_ALIAS]


storage = _Storage()


def attachment_storage():
    """The storage of :class:`~servicebook.core.models.Attachment` files (the field's callable)."""
    return storage


def _storages_changed(*, setting, **kwargs):
    if setting in ("STORAGES", "VAR_DIR"):
        storage._wrapped = empty  # type: ignore[assignment]


setting_changed.connect(_storages_changed)


def stored_name(instance, filename: str) -> str:
    """Where a file is stored: ``<app>/<record kind>/<record id>/<random>-<name>`` (the random
    part keeps two files of one name apart and a name from being guessed)."""
    ct = instance.content_type
    return f"{ct.app_label}/{ct.model}/{instance.object_id}/{uuid.uuid4().hex[:12]}-{filename}"


def max_bytes() -> int:
    return int(getattr(settings, "SERVICEBOOK_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024))


def clean_filename(name: str) -> str:
    """A safe file name: no folders, no control or shell characters, at most ``MAX_NAME`` long,
    the extension kept. Raises :class:`DomainError` when nothing usable is left."""
    name = unicodedata.normalize("NFKC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    try:
        name = get_valid_filename(name)
    except Exception:  # Django's SuspiciousFileOperation on an empty or dotted name
        name = ""
    if not name:
        raise DomainError("The file has no usable name.", code="bad_filename", field="file")
    stem, ext = os.path.splitext(name)
    ext = ext[:16]
    return stem[: MAX_NAME - len(ext)] + ext


# --- the kinds of record ------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachableKind:
    """A kind of record that takes attached files, declared by the app that owns it.

    ``name`` is the short name in URLs (``agreement``), ``title`` what people read (``contract``),
    ``model`` the record's model; ``visible(user)`` the records the user may see (the app's
    ``visible_to``), ``may_attach(user, record)`` whether the user may add a file (the record's
    own edit rule), ``page(record)`` the URL of the page that shows the record.
    """

    name: str
    title: str
    model: type[Any]
    visible: Callable[[Any], Any]
    may_attach: Callable[[Any, Any], bool]
    page: Callable[[Any], str]


_source: Callable[[], Iterable[AttachableKind]] = tuple


def use_kinds(source: Callable[[], Iterable[AttachableKind]]) -> None:
    """Where the kinds come from (called once by :mod:`servicebook.ports`)."""
    global _source
    _source = source


def kinds() -> dict[str, AttachableKind]:
    return {kind.name: kind for kind in _source()}


def kind_of(record) -> AttachableKind | None:
    """The kind a record belongs to (by its model), or None when its app declared none."""
    for kind in _source():
        if isinstance(record, kind.model):
            return kind
    return None


def visible_records(user, kind: AttachableKind):
    """The records of ``kind`` the user may see (the app's answer; nothing when signed out)."""
    if not getattr(user, "is_authenticated", False):
        return kind.model.objects.none()
    return kind.visible(user)


def may_see(user, record) -> bool:
    kind = kind_of(record)
    return kind is not None and visible_records(user, kind).filter(pk=record.pk).exists()


def may_attach(user, record) -> bool:
    kind = kind_of(record)
    return bool(kind and may_see(user, record) and kind.may_attach(user, record))


def visible_filter(user):
    """A ``Q`` on :class:`Attachment` rows: those whose record ``user`` may see."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    condition = Q(pk__in=[])
    if not getattr(user, "is_authenticated", False):
        return condition
    for kind in _source():
        content_type = ContentType.objects.get_for_model(kind.model)
        records = visible_records(user, kind).values("pk")
        condition |= Q(content_type=content_type, object_id__in=records)
    return condition


def attachments_of(record):
    """The files attached to ``record``, oldest first, with who added them (one query: the
    record's kind is matched by name, so no content type is looked up first)."""
    from servicebook.core.models import Attachment

    meta = record._meta
    return Attachment.objects.filter(
        content_type__app_label=meta.app_label,
        content_type__model=meta.model_name,
        object_id=record.pk,
    ).select_related("uploaded_by")


# --- the one write ------------------------------------------------------------------------------


def attach(*, actor, record, upload, description: str = ""):
    """Store ``upload`` (a Django ``UploadedFile``) and record it on ``record``.

    Refuses, writing nothing, when the actor may not attach to the record (``PermissionDenied``),
    the file is empty or larger than ``SERVICEBOOK_ATTACHMENT_MAX_BYTES``, or its name is unusable
    (``DomainError`` on the ``file`` field). A file stored before the row failed is deleted.
    """
    from django.contrib.contenttypes.models import ContentType

    from servicebook.core.models import Attachment

    if not may_attach(actor, record):
        raise PermissionDenied("Your role does not allow adding files to this record.")
    if upload is None:
        raise DomainError("Choose a file to attach.", code="no_file", field="file")
    filename = clean_filename(getattr(upload, "name", ""))
    size = int(upload.size or 0)
    limit = max_bytes()
    if size == 0:
        raise DomainError(f"{filename} is empty.", code="empty_file", field="file")
    if size > limit:
        raise DomainError(
            f"{filename} is {size_text(size)}; files may be at most {size_text(limit)}.",
            code="file_too_large",
            field="file",
        )
    description = " ".join(str(description or "").split())[:300]
    # the type the name says (the browser's claim is not to be trusted), else plain bytes
    media_type = (mimetypes.guess_type(filename)[0] or "application/octet-stream")[:100]
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        filename=filename,
        size=size,
        media_type=media_type,
        description=description,
        uploaded_by=actor,
    )
    attachment.file.save(filename, upload, save=False)
    try:
        with transaction.atomic():
            attachment.full_clean(exclude=["file"])
            attachment.save()
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def size_text(count: int) -> str:
    """``812 bytes``, ``34 KB``, ``20 MB``, ``20.5 MB``."""
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
