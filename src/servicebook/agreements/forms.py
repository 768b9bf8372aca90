import datetime as dt
import re
from zoneinfo import available_timezones

from django import forms

from servicebook.agreements.models import (
    Agreement,
    AgreementStatus,
    Calendar,
    ChangeClause,
    Metric,
)
from servicebook.agreements.preview import WEEKDAYS, holiday_countries
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


# --- service level settings: targets, credit tiers, change clauses, calendars ------------------

#: Ticket priorities as ITIL and ServiceNow name them.
PRIORITY_CHOICES = [(1, "1 · Critical"), (2, "2 · High"), (3, "3 · Moderate"), (4, "4 · Low")]
PERCENT = {"max_digits": 6, "decimal_places": 3, "min_value": 0, "max_value": 100}


class TargetForm(BootstrapFormMixin, forms.Form):
    metric = forms.ChoiceField(choices=Metric.choices, label="What is measured")
    priority = forms.TypedChoiceField(
        choices=[("", "None (availability)"), *PRIORITY_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        label="Ticket priority",
        help_text="Response and resolution targets are set per priority.",
    )
    threshold_minutes = forms.IntegerField(
        min_value=1,
        required=False,
        label="Time allowed (business minutes)",
        help_text="Response and resolution: within how many minutes of business time.",
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(),
        required=False,
        label="Service",
        help_text="Availability is measured for one service.",
    )
    attainment_percent = forms.DecimalField(
        **PERCENT, label="To attain (%)", help_text="Share of tickets on time, or availability."
    )
    calendar = forms.ModelChoiceField(
        queryset=Calendar.objects.all(), label="Business hours (calendar)"
    )

    def __init__(self, *args, agreement=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(
            offerings__agreement_lines__agreement=agreement
        ).distinct()


class CreditTierForm(BootstrapFormMixin, forms.Form):
    below_percent = forms.DecimalField(**PERCENT, required=False, label="Attainment below (%)")
    credit_percent = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        label="Credit (% of the monthly fee)",
    )

    def clean(self):
        data = super().clean()
        below, credit = data.get("below_percent"), data.get("credit_percent")
        if (below is None) != (credit is None) and not self.errors:
            raise forms.ValidationError("a tier needs both an attainment and a credit")
        return data


class BaseCreditTierFormSet(forms.BaseFormSet):
    def tiers(self) -> list[tuple]:
        """The filled rows as (below %, credit %) pairs, as ``set_credit_tiers`` takes them."""
        return [
            (form.cleaned_data["below_percent"], form.cleaned_data["credit_percent"])
            for form in self.forms
            if form.cleaned_data.get("below_percent") is not None
        ]

    def clean(self):
        if any(self.errors):
            return
        seen = [below for below, _ in self.tiers()]
        if len(seen) != len(set(seen)):
            raise forms.ValidationError("each tier needs its own attainment threshold")


CreditTierFormSet = forms.formset_factory(
    CreditTierForm, formset=BaseCreditTierFormSet, extra=3, max_num=10, validate_max=True
)


class ChangeClauseForm(BootstrapFormMixin, forms.Form):
    scope = forms.ChoiceField(choices=ChangeClause.Scope.choices, label="Changes it covers")
    requires_approval = forms.BooleanField(
        required=False, initial=True, label="The customer must approve these changes"
    )
    notice_days = forms.IntegerField(
        min_value=0, initial=10, label="Notice otherwise (working days)"
    )
    repricing = forms.ChoiceField(
        choices=ChangeClause.Repricing.choices, label="How a change is priced"
    )
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="The clause as written in the contract",
    )


#: The two working windows a weekday row holds (a lunch break is two windows).
WINDOW_FIELDS = (
    ("start", "opens"),
    ("end", "closes"),
    ("start2", "opens again"),
    ("end2", "closes again"),
)
CLOCK = r"([01]\d|2[0-3]):[0-5]\d|24:00"


def _clock_field(label: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=5,
        label=label,
        widget=forms.TextInput(
            attrs={"pattern": CLOCK, "placeholder": "HH:MM", "inputmode": "numeric", "size": 5}
        ),
    )


class CalendarForm(BootstrapFormMixin, forms.Form):
    """A business calendar: its zone, two windows per weekday, public holidays of a country (and
    subdivision) and its own closed dates with their names."""

    name = forms.CharField(max_length=100)
    time_zone = forms.ChoiceField(label="Time zone")
    holiday_country = forms.ChoiceField(required=False, label="Public holidays of")
    holiday_subdivision = forms.ChoiceField(
        required=False,
        label="Region (subdivision)",
        help_text="Only for countries whose holidays differ by region.",
    )
    own_dates = forms.CharField(
        required=False,
        label="Own closed dates",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-12-24 Christmas Eve"}),
        help_text="One a line: the date (YYYY-MM-DD), then its name.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number, day in enumerate(WEEKDAYS):
            for key, words in WINDOW_FIELDS:
                self.fields[f"day{number}_{key}"] = _clock_field(f"{day} {words}")
        self.fields["time_zone"].choices = [(z, z) for z in sorted(available_timezones())]
        countries = holiday_countries()
        self.fields["holiday_country"].choices = [
            ("", "No public holidays"),
            *((code, name) for code, name, _ in countries),
        ]
        self.fields["holiday_subdivision"].choices = [
            ("", "The whole country"),
            *(
                (name, [(f"{code}:{sub}", f"{label} ({sub})") for sub, label in subs])
                for code, name, subs in countries
                if subs
            ),
        ]
        for field in self.fields.values():  # BootstrapFormMixin ran before the weekday rows
            field.widget.attrs.setdefault("class", "form-control form-control-sm")

    def weekday_rows(self):
        """(weekday name, its four fields) for the template's table."""
        return [
            (day, [self[f"day{number}_{key}"] for key, _ in WINDOW_FIELDS])
            for number, day in enumerate(WEEKDAYS)
        ]

    @classmethod
    def initial_for(cls, calendar: Calendar) -> dict:
        """The form's values for an existing calendar."""
        initial = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "holiday_country": calendar.holiday_country,
            "own_dates": "\n".join(
                f"{value} {calendar.own_date_name(dt.date.fromisoformat(value))}".strip()
                for value in calendar.extra_holidays or []
            ),
        }
        if calendar.holiday_subdivision:
            initial["holiday_subdivision"] = (
                f"{calendar.holiday_country}:{calendar.holiday_subdivision}"
            )
        for day, spans in (calendar.windows or {}).items():
            for index, (start, end) in enumerate(spans[:2]):
                suffix = "2" if index else ""
                initial[f"day{day}_start{suffix}"] = start
                initial[f"day{day}_end{suffix}"] = end
        return initial

    def _windows(self, data) -> dict[str, list[list[str]]]:
        windows: dict[str, list[list[str]]] = {}
        for number, day in enumerate(WEEKDAYS):
            for suffix in ("", "2"):
                start = (data.get(f"day{number}_start{suffix}") or "").strip()
                end = (data.get(f"day{number}_end{suffix}") or "").strip()
                if not start and not end:
                    continue
                if not (start and end):
                    self.add_error(
                        f"day{number}_{'end' if start else 'start'}{suffix}",
                        f"{day}: a window needs a time it opens and a time it closes",
                    )
                    continue
                for value, key in ((start, "start"), (end, "end")):
                    if not re.fullmatch(CLOCK, value):
                        self.add_error(
                            f"day{number}_{key}{suffix}", f"{day}: {value!r} is not a time HH:MM"
                        )
                windows.setdefault(str(number), []).append([start, end])
        return windows

    def _own_dates(self, text: str) -> tuple[list[str], dict[str, str]]:
        dates: list[str] = []
        names: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            value, _, name = line.partition(" ")
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                self.add_error("own_dates", f"line {number}: {value!r} is not a date YYYY-MM-DD")
                continue
            if day.isoformat() in dates:
                self.add_error("own_dates", f"line {number}: {day} is listed twice")
                continue
            if len(name.strip()) > 100:
                self.add_error("own_dates", f"line {number}: the name is over 100 characters")
                continue
            dates.append(day.isoformat())
            if name.strip():
                names[day.isoformat()] = name.strip()
        return sorted(dates), names

    def clean(self):
        data = super().clean()
        country = data.get("holiday_country") or ""
        subdivision = data.get("holiday_subdivision") or ""
        if subdivision:
            code, _, subdivision = subdivision.partition(":")
            if code != country:
                self.add_error(
                    "holiday_subdivision", "this region is not in the country chosen above"
                )
        dates, names = self._own_dates(data.get("own_dates") or "")
        data["calendar_fields"] = {
            "name": data.get("name"),
            "time_zone": data.get("time_zone"),
            "windows": self._windows(data),
            "holiday_country": country,
            "holiday_subdivision": subdivision,
            "extra_holidays": dates,
            "holiday_names": names,
        }
        return data
