from django import forms

from servicebook.catalog.models import Service
from servicebook.core.audience import person_name
from servicebook.core.periods import PERIOD_RE
from servicebook.parties.models import (
    CheckType,
    Commitment,
    Contact,
    Customer,
    CustomerStatus,
    Provider,
    StatusReason,
    WaiverReason,
)
from servicebook.parties.owners import owner_candidates
from servicebook.parties.provider import LABELS, RATES, SETTINGS, percent
from servicebook.web.forms import BootstrapFormMixin


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_name(obj)


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    relationship_owner = OwnerChoiceField(
        queryset=owner_candidates(),
        required=False,
        empty_label="No owner",
        label="Relationship owner",
        help_text="The provider user who owns and manages the business relationship.",
    )

    class Meta:
        model = Customer
        fields = [*Customer.EDITABLE_FIELDS, "relationship_owner"]

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


class AnswerForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="First answer to the customer"
    )


class DifficultyForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Why", required=False)


RATE_HELP = {
    "internal_margin": "Margin on internal charges the enterprise policy allows (0 for none).",
    "recovery_share": "Share of internal cost recovered from customers under partial recovery.",
    "minimum_margin": "Margin over cost an external request must earn to be profitable.",
    "discount_rate": "Yearly rate used to discount business cases (net present value).",
}


class ProviderSettingsForm(BootstrapFormMixin, forms.ModelForm):
    """The provider's settings; rates are typed as percentages (5 for 5 %) and handed to the
    service as fractions (0.05)."""

    class Meta:
        model = Provider
        fields = list(SETTINGS)
        labels = LABELS
        help_texts = {
            "due_diligence_validity_months": "In months (1 to 120).",
            "parity_tolerance": "In % of the better-served kind's figure; a larger gap "
            "that is statistically significant proposes an improvement.",
            "low_satisfaction_score": "A survey answer at or below this score (1 to 5) "
            "proposes an improvement item.",
        }

    def __init__(self, *args, currency_locked: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in RATES:
            self.fields[name] = forms.DecimalField(
                label=f"{LABELS[name]} (%)",
                min_value=0,
                max_value=100,
                decimal_places=2,
                help_text=RATE_HELP[name],
                widget=forms.NumberInput(attrs={"step": "0.01", "class": "form-control"}),
            )
            if self.instance.pk:
                self.initial[name] = percent(getattr(self.instance, name))
        if currency_locked:
            self.fields["base_currency"].disabled = True
            self.fields["base_currency"].help_text = f"Locked: {currency_locked}."

    def clean(self):
        data = super().clean()
        for name in RATES:
            if data.get(name) is not None:
                data[name] = data[name] / 100
        return data

    def _post_clean(self):
        # The service validates and saves (one history row per changed field).
        pass
