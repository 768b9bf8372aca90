"""Forms of the finance pages; every save goes through a service."""

from __future__ import annotations

from django import forms

from servicebook.finance.models import CostCategory, PaymentKind
from servicebook.web.forms import BootstrapFormMixin


class PeriodField(forms.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            regex=r"^\d{4}-(0[1-9]|1[0-2])$",
            max_length=7,
            error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
            **kwargs,
        )


class CloseForm(BootstrapFormMixin, forms.Form):
    period = PeriodField(help_text="The month to close, YYYY-MM.")
    dry_run = forms.BooleanField(required=False, label="Dry run (show, change nothing)")


class PaymentForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=PaymentKind.choices)
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=100, required=False)


class SuspendForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(max_length=500, required=False, label="Note for the customer's history")


class CostPoolForm(BootstrapFormMixin, forms.Form):
    period = PeriodField()
    category = forms.ChoiceField(choices=CostCategory.choices)
    name = forms.CharField(max_length=120)
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)


class CostImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(help_text="CSV: period, category, name, amount[, currency]")


class ComputeForm(BootstrapFormMixin, forms.Form):
    period = PeriodField()
