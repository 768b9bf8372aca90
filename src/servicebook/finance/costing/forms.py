"""Forms of the costs page; every save goes through a costing service."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from servicebook.agreements.models import AgreementLine, AgreementStatus
from servicebook.catalog.models import Service
from servicebook.finance.costing.models import CostCategory, Driver
from servicebook.finance.ledger.forms import PeriodField
from servicebook.web.forms import BootstrapFormMixin

#: the drivers measured per service (a fixed rule has percentages instead)
MEASURED = [(value, label) for value, label in Driver.choices if value != Driver.FIXED]


class CostPoolForm(BootstrapFormMixin, forms.Form):
    period = PeriodField(label="Period")
    category = forms.ChoiceField(choices=CostCategory.choices, label="Category")
    name = forms.CharField(max_length=120, label="Pool name")
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0, label="Amount")


class CostImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label="Cost pools file", help_text="CSV: period, category, name, amount[, currency]"
    )


class ComputeForm(BootstrapFormMixin, forms.Form):
    period = PeriodField(label="Period to allocate")


def _services():
    return list(Service.objects.order_by("name"))


class _PerServiceForm(BootstrapFormMixin, forms.Form):
    """A form with one decimal field per service (``<prefix>_<service id>``)."""

    prefix_name = ""
    value_label = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.services = _services()
        for service in self.services:
            self.fields[f"{self.prefix_name}_{service.pk}"] = forms.DecimalField(
                max_digits=18,
                decimal_places=4,
                min_value=0,
                required=False,
                label=f"{self.value_label}: {service.name}",
                widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
            )

    def per_service(self) -> list:
        return [self[f"{self.prefix_name}_{s.pk}"] for s in self.services]

    def values(self) -> dict:
        """{service: value} for the services given a value."""
        data = self.cleaned_data
        return {
            s: data[f"{self.prefix_name}_{s.pk}"]
            for s in self.services
            if data.get(f"{self.prefix_name}_{s.pk}") is not None
        }


class AllocationRuleForm(_PerServiceForm):
    """How one TBM category reaches services: by a measured driver, or by fixed percentages
    (one per service, and shared and idle capacity; ``set_allocation_rule`` checks they make
    100 and that only a fixed rule has them)."""

    prefix_name = "share"
    value_label = "Percent"

    category = forms.ChoiceField(choices=CostCategory.choices, label="Cost category")
    driver = forms.ChoiceField(choices=Driver.choices, label="Allocated by")
    note = forms.CharField(max_length=200, required=False, label="Note")
    idle = forms.DecimalField(
        max_digits=7,
        decimal_places=4,
        min_value=0,
        required=False,
        label="Percent: shared and idle capacity",
    )

    def shares(self) -> list:
        """[(service or None for idle capacity, percent)], the percentages given (not zero)."""
        found = [(s, v) for s, v in self.values().items() if v]
        if self.cleaned_data.get("idle"):
            found.append((None, self.cleaned_data["idle"]))
        return found


class DriverValuesForm(_PerServiceForm):
    """A measured driver's values per service for one period (``set_driver_values`` replaces
    the period's values of that driver)."""

    prefix_name = "value"
    value_label = "Value"

    period = PeriodField(label="Period")
    driver = forms.ChoiceField(choices=MEASURED, label="Driver")


def _line_label(line) -> str:
    agreement = line.agreement
    return (
        f"{agreement.reference} ({agreement.customer.name}, {agreement.get_status_display()}) — "
        f"{line.offering}"
    )


#: contract lines the override form offers at most (issue 14: every line of 10,000 contracts in
#: one select was megabytes of HTML); a search narrows them, any open line is accepted
LINES_SHOWN = 50


def _open_lines():
    return AgreementLine.objects.filter(
        agreement__status__in=(
            AgreementStatus.DRAFT,
            AgreementStatus.NEGOTIATION,
            AgreementStatus.ACTIVE,
        )
    ).select_related("agreement__customer", "offering__service")


class _LineField(forms.ChoiceField):
    """A choice among the lines shown, but valid for any line of an open contract (one query)."""

    def valid_value(self, value):
        return str(value).isdigit() and _open_lines().filter(pk=value).exists()


class PriceOverrideForm(BootstrapFormMixin, forms.Form):
    """A finance user accepts a contract line priced below its cost, saying why.

    The select offers the lines of contracts not yet active (those the price floor blocks), or,
    with ``search`` (a contract reference or customer name), the open lines that match: at most
    ``LINES_SHOWN`` either way (``more`` says how many were left out)."""

    line = _LineField(label="Contract line")
    reason = forms.CharField(
        max_length=2000, label="Reason", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, search: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.search = search = search.strip()[:100]
        if self.is_bound:  # a post names its line; the choices are only for the page
            self.more = 0
            return
        lines = _open_lines()
        if search:
            lines = lines.filter(
                Q(agreement__reference__icontains=search)
                | Q(agreement__customer__name__icontains=search)
            )
        else:
            lines = lines.filter(
                agreement__status__in=(AgreementStatus.DRAFT, AgreementStatus.NEGOTIATION)
            )
        shown = list(lines.order_by("agreement__reference", "pk")[: LINES_SHOWN + 1])
        self.more = len(shown) > LINES_SHOWN
        self.fields["line"].choices = [("", "—")] + [
            (str(line.pk), _line_label(line)) for line in shown[:LINES_SHOWN]
        ]

    def chosen_line(self):
        return _open_lines().get(pk=self.cleaned_data["line"])
