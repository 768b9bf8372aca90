"""Forms for demand pages; every save goes through a service."""

from __future__ import annotations

from django import forms

from servicebook.demand.models import CapacityPool, DemandKind, Positioning, Requirement
from servicebook.parties.models import Contact, Customer, Objective
from servicebook.web.forms import BootstrapFormMixin


class DemandForm(BootstrapFormMixin, forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    requester = forms.ModelChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        help_text="Provider staff: the customer's requester this is recorded for.",
    )
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=DemandKind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    expected_outcomes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    required_investment = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    positioning = forms.ChoiceField(choices=Positioning.choices, initial=Positioning.BESPOKE)
    requirements = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One requirement a line, e.g. “ISO 27001 certified site”.",
    )
    objectives = forms.ModelMultipleChoiceField(
        queryset=Objective.objects.none(),
        required=False,
        label="Organization objectives it serves",
        help_text="Internal customers: at least one of the objectives the customer shares. "
        "External customers name none (their desired outcomes are on their agreement).",
    )
    how = forms.CharField(
        max_length=300,
        required=False,
        label="How it serves them",
        help_text="e.g. “keeps confidential research on premises the group controls”.",
    )

    def __init__(self, *args, user=None, staff=False, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.visible_to(user)
        self.fields["objectives"].queryset = (
            Objective.objects.all()
            if staff
            else Objective.objects.filter(customers__in=customers).distinct()
        )
        self.fields["customer"].queryset = customers
        if staff:
            self.fields["requester"].queryset = Contact.objects.filter(is_requester=True)
        else:
            del self.fields["requester"]
            self.fields["customer"].initial = customers.first()

    def clean_requirements(self):
        return [line.strip() for line in self.cleaned_data["requirements"].splitlines() if line]

    def clean(self):
        data = super().clean()
        how = data.pop("how", "")
        data["objectives"] = [(o, how) for o in data.get("objectives") or []]
        return data


class ServeObjectiveForm(BootstrapFormMixin, forms.Form):
    objective = forms.ModelChoiceField(queryset=None)
    how = forms.CharField(max_length=300, required=False, label="How the request serves it")

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = demand.customer.objectives.all()


class RefuseForm(BootstrapFormMixin, forms.Form):
    ground = forms.ChoiceField(choices=())
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the request is refused: the customer reads it in the request's history.",
    )

    def __init__(self, *args, demand=None, **kwargs):
        from servicebook.demand.strategy import refusal_grounds

        super().__init__(*args, **kwargs)
        self.fields["ground"].choices = refusal_grounds(demand)


class BusinessCaseForm(BootstrapFormMixin, forms.Form):
    expected_business_outcomes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    yearly_net_benefit = forms.DecimalField(
        max_digits=18, decimal_places=2, help_text="Benefits minus running cost, per year."
    )
    years = forms.IntegerField(min_value=1, max_value=30, initial=5)


class AlternativeForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=200)
    cost = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    meets = forms.ModelMultipleChoiceField(
        queryset=Requirement.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The requirements this alternative meets.",
    )

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meets"].queryset = demand.requirements.all()
        self.fields["meets"].widget.attrs["class"] = ""


class ChooseForm(BootstrapFormMixin, forms.Form):
    alternative = forms.ModelChoiceField(queryset=None, label="Option")
    note = forms.CharField(required=False, max_length=500, label="Why this option")

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alternative"].queryset = demand.alternatives.all()


class JustifyForm(BootstrapFormMixin, forms.Form):
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Senior management's reason for accepting the costlier option.",
    )


class ExternalCheckForm(BootstrapFormMixin, forms.Form):
    legal = forms.BooleanField(required=False, label="Legal")
    legal_note = forms.CharField(required=False)
    feasible = forms.BooleanField(required=False, label="Possible")
    feasibility_note = forms.CharField(required=False)
    quoted_price = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    estimated_cost = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    suspend_customer = forms.BooleanField(
        required=False, label="Suspend the customer for an illegal request"
    )


class CapacityNeedForm(BootstrapFormMixin, forms.Form):
    pool = forms.ModelChoiceField(queryset=CapacityPool.objects.all())
    quantity = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class ApproveForm(BootstrapFormMixin, forms.Form):
    approver = forms.ModelChoiceField(
        queryset=None, help_text="The customer's approver who commits to the investment."
    )
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, demand=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = Contact.objects.filter(customer=demand.customer)


class RejectForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(max_length=40, initial="declined")
    note = forms.CharField(required=False, max_length=500)
