"""Forms of the improvement pages; every save goes through a service."""

from __future__ import annotations

from django import forms

from servicebook.catalog.models import Service
from servicebook.core.models import User
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.periods import is_period
from servicebook.improvement.models import (
    DRIVER_CHOICES,
    Direction,
    ImprovementSource,
    ImprovementStatus,
)
from servicebook.parties.models import Contact, Customer, Objective
from servicebook.web.forms import BootstrapFormMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _optional_decimal(help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(max_digits=14, decimal_places=3, required=False, help_text=help_text)


class PlanForm(BootstrapFormMixin, forms.Form):
    """The plan of an improvement: why, what is expected and by when, what it costs."""

    title = forms.CharField(max_length=200)
    customers = forms.ModelMultipleChoiceField(
        queryset=Customer.objects.none(),
        required=False,
        help_text="Other customers concerned (the lead customer is always concerned).",
    )
    services = forms.ModelMultipleChoiceField(queryset=Service.objects.none(), required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    driver = forms.ChoiceField(
        choices=[("", "—"), *DRIVER_CHOICES],
        required=False,
        help_text="Internal: business impact, cost/quality balance, business objectives. "
        "External: retention, competitiveness, cost reduction.",
    )
    objective = forms.ModelChoiceField(
        queryset=Objective.objects.all(),
        required=False,
        help_text="Internal customers: the organization objective it helps meet.",
    )
    expected_measure = forms.CharField(
        max_length=200,
        required=False,
        help_text="What is measured, e.g. 'P1 incidents resolved within 4 business hours (%)'.",
    )
    expected_direction = forms.ChoiceField(choices=Direction.choices)
    baseline_value = _optional_decimal("Measured before the improvement.")
    expected_value = _optional_decimal("The value to reach.")
    expected_by = forms.DateField(required=False, widget=DATE)
    currency = forms.ChoiceField(choices=[("", "—"), *CURRENCY_CHOICES], required=False)
    estimated_cost = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text="The provider's cost of the improvement (never shown to external customers).",
    )
    price_impact = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text="Change to the customer's monthly price (negative: cheaper).",
    )
    internal_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Provider staff only."
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = Customer.objects.visible_to(user)
        self.fields["services"].queryset = Service.objects.visible_to(user)


class ImprovementForm(PlanForm):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), label="Lead customer")
    source = forms.ChoiceField(choices=ImprovementSource.choices)
    status = forms.ChoiceField(
        choices=[
            (ImprovementStatus.PROPOSED, "Proposed (driver and expected result stated)"),
            (ImprovementStatus.DRAFT, "Draft"),
        ]
    )
    field_order = ["customer", "title", "source", "status"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["customer"].queryset = Customer.objects.visible_to(user)


class NoteForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(required=False, max_length=500)


class DropForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(max_length=500)


class VerifyForm(BootstrapFormMixin, forms.Form):
    measured_value = forms.DecimalField(max_digits=14, decimal_places=3)
    measured_on = forms.DateField(required=False, widget=DATE)
    note = forms.CharField(required=False, max_length=500)


class ApproveForm(BootstrapFormMixin, forms.Form):
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        help_text="Staff: the customer's contact who approved (leave empty to approve for the "
        "provider when no customer takes part in the plan).",
    )
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args, contacts=None, on_behalf=True, **kwargs):
        super().__init__(*args, **kwargs)
        if on_behalf:
            self.fields["contact"].queryset = contacts
        else:
            del self.fields["contact"]


class ParticipantForm(BootstrapFormMixin, forms.Form):
    contact = forms.ModelChoiceField(queryset=Contact.objects.none())
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts


class ActionForm(BootstrapFormMixin, forms.Form):
    description = forms.CharField(max_length=300)
    owner_user = forms.ModelChoiceField(
        queryset=User.objects.filter(customer__isnull=True, is_active=True),
        required=False,
        label="Owner (provider)",
    )
    owner_contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, label="Owner (customer contact)"
    )
    due = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_contact"].queryset = contacts


class CommentForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Comment")


class PeriodField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=7, help_text="YYYY-MM", **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not is_period(value):
            raise forms.ValidationError("use YYYY-MM")


class ReviewForm(BootstrapFormMixin, forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    period = PeriodField()
    meeting_on = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args, user=None, offered=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        field.queryset = Customer.objects.visible_to(user)
        if offered is not None:
            # a list of 10,000 customers is no choice: offer those the page shows (and the one
            # chosen); any customer the user sees is still accepted
            chosen = self.data.get("customer") or self.initial.get("customer")
            rows = list(offered)
            if chosen and str(chosen).isdigit() and all(str(c.pk) != str(chosen) for c in rows):
                rows += list(field.queryset.filter(pk=chosen))
            field.widget.choices = [("", field.empty_label), *((c.pk, str(c)) for c in rows)]


class HeldForm(BootstrapFormMixin, forms.Form):
    meeting_on = forms.DateField(widget=DATE)
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))


class ProposeForm(BootstrapFormMixin, forms.Form):
    period = PeriodField(required=False)
