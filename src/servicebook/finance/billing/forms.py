"""Forms of billing's pages; every save goes through a billing service."""

from __future__ import annotations

from django import forms

from servicebook.core.idempotency import key_field
from servicebook.finance.billing.legal_models import TaxRate
from servicebook.finance.billing.models import PaymentKind
from servicebook.finance.ledger.forms import PeriodField
from servicebook.web.forms import BootstrapFormMixin


class CloseForm(BootstrapFormMixin, forms.Form):
    """The close of a month: first its dry run (what it would issue), then its confirmation;
    a month earlier than one already closed also needs the box ticked and a reason."""

    period = PeriodField(label="Month to close", help_text="YYYY-MM, e.g. 2026-10.")
    confirm_earlier = forms.BooleanField(
        required=False,
        label="I confirm closing this month although a later month is already closed",
    )
    earlier_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Why close it now",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def check_earlier(self, later: str | None) -> bool:
        """Whether the confirmation of a close behind ``later`` (closed) is complete."""
        if later is None:
            return True
        if not self.cleaned_data.get("confirm_earlier"):
            self.add_error(
                "confirm_earlier",
                f"{later} is already closed: tick the box to close the earlier month.",
            )
        if not (self.cleaned_data.get("earlier_reason") or "").strip():
            self.add_error("earlier_reason", "Say why the earlier month is closed now.")
        return not self.errors


class PaymentForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=PaymentKind.choices)
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=0)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(max_length=100, required=False)
    # one key per form shown: the same form sent twice (a double click) records one payment
    request_key = key_field()


class CreditNoteForm(BootstrapFormMixin, forms.Form):
    amount = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=0,
        label="Amount credited (excluding tax)",
        help_text="Tax is credited at the invoice's rates.",
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    # one key per form shown: the same form sent twice (a double click) issues one credit note
    request_key = key_field()


class TaxRateForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = list(TaxRate.EDITABLE_FIELDS)
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_to": forms.DateInput(attrs={"type": "date"}),
        }


class SuspendForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(max_length=500, required=False, label="Note for the customer's history")


class FocusExportForm(BootstrapFormMixin, forms.Form):
    period = forms.ChoiceField(choices=())
    format = forms.ChoiceField(choices=(("csv", "CSV"), ("parquet", "Parquet")))

    def __init__(self, *args, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p, p) for p in periods]
