from django import forms

from servicebook.catalog.models import Service
from servicebook.core.periods import PERIOD_RE
from servicebook.parties.models import (
    CheckType,
    Commitment,
    Contact,
    Customer,
    CustomerStatus,
    StatusReason,
    WaiverReason,
)
from servicebook.web.forms import BootstrapFormMixin


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = list(Customer.EDITABLE_FIELDS)

    def _post_clean(self):
        # The service runs the model checks (full_clean) once; the form only parses input.
        pass


class CustomerStatusForm(BootstrapFormMixin, forms.Form):
    to_status = forms.ChoiceField(choices=CustomerStatus.choices, label="New status")
    reason = forms.ChoiceField(
        choices=[("", "—"), *StatusReason.choices], required=False, label="Reason"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ContactForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [f for f in Contact.EDITABLE_FIELDS if f != "active"]

    def _post_clean(self):
        pass


class WaiverForm(BootstrapFormMixin, forms.Form):
    reason = forms.ChoiceField(choices=WaiverReason.choices)
    explanation = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class CheckForm(BootstrapFormMixin, forms.Form):
    check_type = forms.ChoiceField(choices=CheckType.choices, label="Check")
    outcome = forms.ChoiceField(choices=[("passed", "Passed"), ("failed", "Failed")])
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class CommitmentForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Commitment
        fields = ["kind", "amount_per_period", "service_level", "starts", "ends", "note"]
        widgets = {
            "starts": forms.DateInput(attrs={"type": "date"}),
            "ends": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self):
        pass


SCORES = [
    (5, "very satisfied"),
    (4, "satisfied"),
    (3, "neutral"),
    (2, "unhappy"),
    (1, "very unhappy"),
]


class FeedbackForm(BootstrapFormMixin, forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    period = forms.RegexField(regex=PERIOD_RE, help_text="YYYY-MM")
    score = forms.TypedChoiceField(
        choices=[(i, f"{i} – {label}") for i, label in SCORES], coerce=int, label="Satisfaction"
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.visible_to(user)


class DifficultyForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Why", required=False)
