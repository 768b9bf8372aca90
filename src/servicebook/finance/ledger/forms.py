"""Form fields every finance form shares."""

from __future__ import annotations

from django import forms

from servicebook.core.periods import PERIOD_RE


class PeriodField(forms.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            regex=PERIOD_RE,
            max_length=7,
            error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
            **kwargs,
        )
