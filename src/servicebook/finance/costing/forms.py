"""Forms of the costs page; every save goes through a costing service."""

from __future__ import annotations

from django import forms

from servicebook.finance.costing.models import CostCategory
from servicebook.finance.ledger.forms import PeriodField
from servicebook.web.forms import BootstrapFormMixin


class CostPoolForm(BootstrapFormMixin, forms.Form):
    period = PeriodField()
    category = forms.ChoiceField(choices=CostCategory.choices)
    name = forms.CharField(max_length=120)
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)


class CostImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(help_text="CSV: period, category, name, amount[, currency]")


class ComputeForm(BootstrapFormMixin, forms.Form):
    period = PeriodField()
