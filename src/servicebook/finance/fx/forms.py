"""Forms of the exchange rates page; every save goes through an fx service."""

from __future__ import annotations

from django import forms

from servicebook.core.money import CURRENCY_CHOICES
from servicebook.web.forms import BootstrapFormMixin


class RateForm(BootstrapFormMixin, forms.Form):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, label="Currency")
    rate = forms.DecimalField(
        max_digits=20,
        decimal_places=6,
        min_value=0,
        label="Rate",
        help_text="Units of the currency one unit of the base currency buys (1 EUR = 1.0870 USD).",
    )
    note = forms.CharField(max_length=200, required=False, label="Note")


class RateImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label="ECB reference rates file",
        help_text="eurofxref.csv (the day) or eurofxref-hist.csv (the history), as the European "
        "Central Bank publishes them (unzipped).",
    )
