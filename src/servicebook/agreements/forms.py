from django import forms

from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.catalog.models import Offering, Service
from servicebook.parties.models import Contact, Customer
from servicebook.web.forms import BootstrapFormMixin


class AgreementForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ["customer", "reference", "title", "start_date", "end_date", "notes"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.visible_to(user)

    def _post_clean(self):
        pass


class LineForm(BootstrapFormMixin, forms.Form):
    offering = forms.ModelChoiceField(queryset=Offering.objects.none())
    quantity = forms.DecimalField(max_digits=14, decimal_places=4, min_value=0)
    unit_price = forms.DecimalField(
        max_digits=20,
        decimal_places=6,
        min_value=0,
        required=False,
        help_text="Leave empty for the list price.",
    )
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offering"].queryset = Offering.objects.visible_to(user).select_related(
            "service"
        )


class AgreementStatusForm(BootstrapFormMixin, forms.Form):
    to_status = forms.ChoiceField(choices=AgreementStatus.choices, label="New status")
    note = forms.CharField(required=False)


class SignForm(BootstrapFormMixin, forms.Form):
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label="Signed by")

    def __init__(self, *args, agreement=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = agreement.customer.contacts.filter(active=True)


class OutcomeForm(BootstrapFormMixin, forms.Form):
    description = forms.CharField(max_length=300, label="Desired business outcome")
    measure = forms.CharField(max_length=200, required=False, label="How it is measured")


class AcknowledgeForm(BootstrapFormMixin, forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label="Acknowledged by")
    statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, agreement=None, conflicts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(
            pk__in=[c.service_id for c in conflicts]
        )
        self.fields["contact"].queryset = agreement.customer.contacts.filter(is_approver=True)


class ConsiderationForm(BootstrapFormMixin, forms.Form):
    contract_value = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    cash = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0, label="Cash part")
    item_description = forms.CharField(max_length=200, required=False, label="In kind: item")
    item_unit_value = forms.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, required=False, label="Unit value"
    )
    item_quantity = forms.DecimalField(
        max_digits=14, decimal_places=4, min_value=0, required=False, label="Quantity per month"
    )

    def clean(self):
        data = super().clean()
        parts = [data.get(f"item_{name}") for name in ("description", "unit_value", "quantity")]
        if any(parts) and not all(parts):
            raise forms.ValidationError("an in-kind item needs a description, value and quantity")
        return data
