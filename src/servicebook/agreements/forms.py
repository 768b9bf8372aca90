from django import forms

from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.catalog.models import Offering
from servicebook.parties.models import Customer
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
