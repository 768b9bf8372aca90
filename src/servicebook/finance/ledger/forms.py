"""Form fields every finance form shares."""

from __future__ import annotations

from django import forms


class PeriodField(forms.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            regex=r"^\d{4}-(0[1-9]|1[0-2])$",
            max_length=7,
            error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
            **kwargs,
        )
