"""Form fields every finance form shares, and the ledger's adjustment and reversal forms."""

from __future__ import annotations

from django import forms

from servicebook.core.idempotency import key_field
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.core.periods import PERIOD_RE
from servicebook.finance.ledger.models import Account
from servicebook.parties.models import Customer
from servicebook.web.forms import BootstrapFormMixin, offer_some


class PeriodField(forms.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            regex=PERIOD_RE,
            max_length=7,
            error_messages={"invalid": "Use YYYY-MM, e.g. 2026-10."},
            **kwargs,
        )


#: the rows of the adjustment form (an entry needs two; most need two to four)
ADJUSTMENT_ROWS = 4


def _account_choices():
    return [("", "—")] + [(a.code, f"{a.code} {a.name}") for a in Account.objects.order_by("code")]


class AdjustmentForm(BootstrapFormMixin, forms.Form):
    """A correction posted as a new balanced entry (``ledger.services.post_adjustment`` checks it:
    balanced per currency, accounts the customer's policy allows, an open period)."""

    period = PeriodField(label="Period", help_text="An open month, YYYY-MM.")
    memo = forms.CharField(
        max_length=200,
        label="Reason",
        help_text="Why the books are corrected (shown on the entry).",
    )
    customer = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Customer",
        empty_label="No customer",
        help_text="The customer the entry concerns: its policy decides the accounts allowed.",
    )
    currency = forms.ChoiceField(label="Currency")
    request_key = key_field()  # a double click or a resend posts once

    def __init__(self, *args, search: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.order_by("name", "pk")
        # any customer is accepted, the select offers a few (issue 14); a search finds others
        self.search = search.strip()[:100]
        self.more = offer_some(self, "customer", self.search, ("name", "code"))
        self.fields["currency"].choices = CURRENCY_CHOICES
        accounts = _account_choices()
        for row in range(1, ADJUSTMENT_ROWS + 1):
            self.fields[f"account_{row}"] = forms.ChoiceField(
                choices=accounts, required=False, label=f"Account, line {row}"
            )
            for side in ("debit", "credit"):
                self.fields[f"{side}_{row}"] = forms.DecimalField(
                    max_digits=18,
                    decimal_places=2,
                    min_value=0,
                    required=False,
                    label=f"{side.capitalize()}, line {row}",
                )
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def entry_fields(self):
        """The entry's own fields (the lines' are in :meth:`rows`)."""
        return [self[name] for name in ("period", "memo", "customer", "currency")]

    def rows(self):
        """The line rows' bound fields: (row, account, debit, credit)."""
        return [
            (row, self[f"account_{row}"], self[f"debit_{row}"], self[f"credit_{row}"])
            for row in range(1, ADJUSTMENT_ROWS + 1)
        ]

    def clean(self):
        data = super().clean()
        lines = []
        for row in range(1, ADJUSTMENT_ROWS + 1):
            account = data.get(f"account_{row}")
            debit, credit = data.get(f"debit_{row}"), data.get(f"credit_{row}")
            if not account and not debit and not credit:
                continue
            if not account:
                self.add_error(f"account_{row}", f"Line {row}: choose an account.")
                continue
            if bool(debit) == bool(credit):
                self.add_error(f"debit_{row}", f"Line {row}: enter a debit or a credit, not both.")
                continue
            side = {"debit": str(debit)} if debit else {"credit": str(credit)}
            lines.append({"account": account, "currency": data.get("currency"), **side})
        if len(lines) < 2 and not self.errors:
            raise forms.ValidationError("An adjustment needs at least two lines.")
        data["lines"] = lines
        return data


class ReversalForm(BootstrapFormMixin, forms.Form):
    period = PeriodField(label="Period of the reversal", help_text="An open month, YYYY-MM.")
    reason = forms.CharField(max_length=180, label="Reason", widget=forms.Textarea({"rows": 2}))
