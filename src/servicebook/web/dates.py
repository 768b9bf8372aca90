"""Dates shown in the format of the user's locale (issue 18).

The browser says which languages its user reads (``Accept-Language``); pages show dates and times
in the short format of the first of them Django knows (``30/11/2026`` for British English,
``11/30/2026`` for American English, ``30.11.2026`` for German), and in ISO (``2026-11-30``) when
the browser says nothing. Date fields are the browser's own (``<input type="date">``), which
show and take dates in the same locale: so a user enters and reads one format. Exports (CSV,
JSON, FOCUS, e-mail) keep ISO dates.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar

from django.utils import dateformat, formats, timezone
from django.utils.translation import check_for_language
from django.utils.translation.trans_real import parse_accept_lang_header

ISO_DAY = "Y-m-d"
ISO_MOMENT = "Y-m-d H:i"

_locale: ContextVar[str | None] = ContextVar("servicebook_date_locale", default=None)


def locale_of(header: str) -> str | None:
    """The first language of an ``Accept-Language`` header that Django has formats for."""
    for code, _quality in parse_accept_lang_header(header or "")[:8]:
        if code == "*":
            continue
        for candidate in (code, code.split("-")[0]):
            if check_for_language(candidate):
                return candidate
    return None


class DateLocaleMiddleware:
    """Remembers, for the request, which locale's date format its pages use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _locale.set(locale_of(request.headers.get("Accept-Language", "")))
        try:
            return self.get_response(request)
        finally:
            _locale.reset(token)


def _pattern(kind: str, iso: str) -> str:
    lang = _locale.get()
    return iso if lang is None else formats.get_format(kind, lang=lang)


def day(value) -> str:
    """A date (or the date of a moment) in the user's format; "" for None."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return dateformat.format(value, _pattern("SHORT_DATE_FORMAT", ISO_DAY))


def moment(value) -> str:
    """A date and time in the user's format, in the site's time zone; "" for None."""
    if value in (None, ""):
        return ""
    if not isinstance(value, dt.datetime):
        return day(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, _pattern("SHORT_DATETIME_FORMAT", ISO_MOMENT))
