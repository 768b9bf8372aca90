"""Forms of the contract's life: a termination notice."""

from __future__ import annotations

from django import forms

from servicebook.agreements.lifecycle.models import NoticeSide
from servicebook.parties.models import Contact


class NoticeForm(forms.Form):
    given_by = forms.ChoiceField(choices=NoticeSide.choices, label="Notice given by")
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        help_text="The customer's authorized person who gave notice (customer's notice only).",
    )
    effective = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Last day",
        help_text="Empty: the end of the term when notice comes in time, else the earliest day "
        "the notice period allows.",
    )
    given_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Notice received on",
        help_text="Empty: today.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(
            customer=agreement.customer, active=True, is_approver=True
        )
