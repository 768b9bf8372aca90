"""Forms for change pages; every save goes through a service."""

from __future__ import annotations

from django import forms

from servicebook.catalog.models import Service
from servicebook.changes.models import Approval, ChangeType, Risk, TaskKind
from servicebook.parties.models import Contact
from servicebook.web.forms import BootstrapFormMixin

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ChangeForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(max_length=200)
    change_type = forms.ChoiceField(choices=ChangeType.choices, initial=ChangeType.NORMAL)
    services = forms.ModelMultipleChoiceField(queryset=Service.objects.none())
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    deployment_procedure = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    planned_start = forms.DateTimeField(required=False, widget=DATETIME, help_text="UTC")
    planned_end = forms.DateTimeField(required=False, widget=DATETIME, help_text="UTC")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = Service.objects.visible_to(user)


class NoteForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(required=False, max_length=500)


class AssessForm(BootstrapFormMixin, forms.Form):
    risk = forms.ChoiceField(choices=Risk.choices)
    service_impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    cost_impact = forms.DecimalField(
        max_digits=18, decimal_places=2, help_text="The provider's cost of the change."
    )


class VerdictForm(NoteForm):
    verdict = forms.ChoiceField(choices=Approval.Verdict.choices)
    field_order = ["verdict", "note"]


class ContactForm(NoteForm):
    """Staff record for a named contact; customer users act as themselves (no contact field)."""

    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)

    def __init__(self, *args, customer=None, on_behalf=False, **kwargs):
        super().__init__(*args, **kwargs)
        if on_behalf:
            self.fields["contact"].queryset = Contact.objects.filter(customer=customer)
            self.fields["contact"].required = True
            self.fields["contact"].help_text = "The customer's contact this is recorded for."
        else:
            del self.fields["contact"]


class DecisionForm(ContactForm):
    verdict = forms.ChoiceField(choices=Approval.Verdict.choices)
    field_order = ["verdict", "contact", "note"]


class PriceImpactForm(NoteForm):
    price_impact = forms.DecimalField(
        max_digits=18, decimal_places=2, help_text="Change of the monthly price."
    )
    field_order = ["price_impact", "note"]


class WindowForm(NoteForm):
    planned_start = forms.DateTimeField(widget=DATETIME, help_text="UTC")
    planned_end = forms.DateTimeField(widget=DATETIME, help_text="UTC")
    deployment_procedure = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    field_order = ["planned_start", "planned_end", "deployment_procedure", "note"]


class TaskForm(BootstrapFormMixin, forms.Form):
    customer = forms.ModelChoiceField(queryset=None)
    kind = forms.ChoiceField(choices=TaskKind.choices)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    script = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="The exact steps (required for scripted deployment steps).",
    )
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["contact"].queryset = Contact.objects.filter(customer__in=customers)
        if customers is not None and customers.count() == 1:
            self.fields["customer"].initial = customers.first()


class TrainingForm(BootstrapFormMixin, forms.Form):
    contact = forms.ModelChoiceField(queryset=Contact.objects.none())
    completed_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    topic = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(customer__in=customers)
