"""Forms of the strategy pages; every save goes through a service."""

from __future__ import annotations

from django import forms

from servicebook.strategy.models import Direction, Frequency, MeasureSource
from servicebook.web.forms import BootstrapFormMixin


class MeasureForm(BootstrapFormMixin, forms.Form):
    indicator = forms.CharField(max_length=200, help_text="What is measured.")
    unit = forms.CharField(max_length=40, help_text="e.g. %, EUR, days, score")
    target = forms.DecimalField(max_digits=16, decimal_places=4)
    direction = forms.ChoiceField(choices=Direction.choices)
    frequency = forms.ChoiceField(choices=Frequency.choices, label="Period")
    source = forms.ChoiceField(choices=MeasureSource.choices, label="Readings come from")


class ReadingForm(BootstrapFormMixin, forms.Form):
    period = forms.CharField(max_length=7, help_text="YYYY-MM, YYYY-Qn or YYYY, as the measure")
    value = forms.DecimalField(max_digits=16, decimal_places=4)
    note = forms.CharField(max_length=300, required=False)


class ReadingImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        help_text="CSV with the columns measure (id or indicator), period, value and "
        "optionally note."
    )
