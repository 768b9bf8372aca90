"""Forms of billing's pages; every save goes through a billing service."""

from __future__ import annotations

from django import forms

from servicebook.finance.billing.models import PaymentKind
from servicebook.finance.ledger.forms import PeriodField
from servicebook.web.forms import BootstrapFormMixin


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


class FocusExportForm(BootstrapFormMixin, forms.Form):
    period = forms.ChoiceField(choices=())
    format = forms.ChoiceField(choices=(("csv", "CSV"), ("parquet", "Parquet")))

    def __init__(self, *args, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p, p) for p in periods]
