"""Forms of the finance pages; every save goes through a service."""

from __future__ import annotations

from django import forms

from servicebook.finance.ledger.forms import PeriodField
from servicebook.finance.models import (
    AllocationKey,
    CostBasis,
    PaymentKind,
    SharedCostMode,
    UsageFormat,
)
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


class UsageImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(help_text="CSV or Parquet.")
    format = forms.ChoiceField(choices=UsageFormat.choices)
    period = PeriodField(required=False, help_text="Optional: accept only records of this month.")
    cost_basis = forms.ChoiceField(
        choices=CostBasis.choices, initial=CostBasis.EFFECTIVE, label="FOCUS: cost charged"
    )
    shared_mode = forms.ChoiceField(
        choices=SharedCostMode.choices,
        initial=SharedCostMode.SEPARATE,
        label="FOCUS: untagged cost",
    )
    exchange_rate = forms.DecimalField(
        max_digits=20,
        decimal_places=10,
        min_value=0,
        required=False,
        label="FOCUS: exchange rate",
        help_text="Bill currency → statement currency, when they differ.",
    )


class CloudMappingForm(BootstrapFormMixin, forms.Form):
    key = forms.ChoiceField(choices=AllocationKey.choices, initial=AllocationKey.TAG)
    tag_key = forms.CharField(max_length=100, required=False, initial="business_unit")
    value = forms.CharField(max_length=300)
    customer = forms.ModelChoiceField(queryset=None, required=False, empty_label="— shared pool —")
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from servicebook.parties.models import Customer
        from servicebook.policy import policy_for

        charged_at_cost = [
            c.pk for c in Customer.objects.all() if policy_for(c).charge_basis == "cost"
        ]
        self.fields["customer"].queryset = Customer.objects.filter(pk__in=charged_at_cost)


class FocusExportForm(BootstrapFormMixin, forms.Form):
    period = forms.ChoiceField(choices=())
    format = forms.ChoiceField(choices=(("csv", "CSV"), ("parquet", "Parquet")))

    def __init__(self, *args, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p, p) for p in periods]
