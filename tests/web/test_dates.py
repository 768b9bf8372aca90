"""Dates in the user's locale (issue 18): pages show the browser's locale format, ISO when it
says nothing; date fields are the browser's own and keep their defaults."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from servicebook.core.models import Job
from servicebook.web import dates
from servicebook.web.forms import BootstrapFormMixin

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("en-US,en;q=0.9", "en-us"),
        ("en-GB,en;q=0.8", "en-gb"),
        ("de-DE,de;q=0.9,en;q=0.5", "de-de"),
        ("fr-CH, fr;q=0.9", "fr-ch"),
        ("", None),
        ("*", None),
        ("xx-YY", None),
        ("x" * 500, None),
    ],
)
def test_the_locale_is_the_first_language_django_has_formats_for(header, locale):
    assert dates.locale_of(header) == locale


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ("en-US", "11/30/2026"),
        ("en-GB", "30/11/2026 14:05"),
        ("de", "30.11.2026 14:05"),
        (None, "2026-11-30 14:05"),
    ],
)
def test_a_page_shows_dates_in_the_browsers_format(header, shown, web_for, users):
    admin = users["admin"]
    job = Job.objects.create(kind="levels.recompute", title="Recompute attainment", user=admin)
    Job.objects.filter(pk=job.pk).update(
        created_at=timezone.make_aware(dt.datetime(2026, 11, 30, 14, 5))
    )
    client = web_for(admin)
    extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    page = client.get("/jobs/", **extra).content.decode()
    assert shown in page


def test_date_fields_are_the_browsers_own_and_keep_their_default():
    from django import forms

    class Form(BootstrapFormMixin, forms.Form):
        on = forms.DateField(initial=dt.date(2026, 11, 30))
        at = forms.DateTimeField(initial=dt.datetime(2026, 11, 30, 9, 30))

    html = str(Form())
    assert 'type="date"' in html and 'value="2026-11-30"' in html
    assert 'type="datetime-local"' in html and 'value="2026-11-30T09:30"' in html
    # a date typed in the British order is still understood
    assert Form({"on": "30/11/2026", "at": "2026-11-30T09:30"}).is_valid()
