"""Forms of the usage pages; every save goes through a usage service."""

from __future__ import annotations

from django import forms

from servicebook.finance.ledger.forms import PeriodField
from servicebook.finance.usage.models import AllocationKey, CostBasis, SharedCostMode, UsageFormat
from servicebook.parties.models import Customer
from servicebook.policy import POLICIES
from servicebook.web.forms import BootstrapFormMixin, offer_some


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
        help_text="Bill currency → statement currency, when they differ. Leave it empty to use "
        "the reference rate of the bill's month (its last day).",
    )


class CloudMappingForm(BootstrapFormMixin, forms.Form):
    key = forms.ChoiceField(choices=AllocationKey.choices, initial=AllocationKey.TAG)
    tag_key = forms.CharField(max_length=100, required=False, initial="business_unit")
    value = forms.CharField(max_length=300)
    customer = forms.ModelChoiceField(queryset=None, required=False, empty_label="— shared pool —")
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, search: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        # the customers charged at cost, asked of the policy per kind (issue 14: not every
        # customer loaded to ask it one by one); the select offers a few, a search finds others
        kinds = [kind for kind, policy in POLICIES.items() if policy.charged_at_cost]
        self.fields["customer"].queryset = Customer.objects.filter(kind__in=kinds).order_by(
            "name", "pk"
        )
        self.search = search.strip()[:100]
        self.more = offer_some(self, "customer", self.search, ("name", "code"))
