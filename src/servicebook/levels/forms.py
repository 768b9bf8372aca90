"""The service level forms: recording an outage or planned maintenance (``services.record_outage``,
the same service as the API)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.conf import settings

from servicebook.agreements.models import Agreement, Metric
from servicebook.catalog.models import Service
from servicebook.web.forms import BootstrapFormMixin

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class OutageForm(BootstrapFormMixin, forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    planned = forms.TypedChoiceField(
        choices=[("no", "An outage (unplanned)"), ("yes", "Planned maintenance")],
        coerce=lambda value: value == "yes",
        initial="no",
        label="What it was",
        help_text="Agreements that exclude planned maintenance do not count it against "
        "availability.",
    )
    start = forms.DateTimeField(widget=DATETIME, label="Started")
    end = forms.DateTimeField(
        widget=DATETIME, required=False, label="Ended", help_text="Empty while it goes on."
    )
    time_zone = forms.ChoiceField(label="Times are in")
    agreement = forms.ModelChoiceField(
        queryset=Agreement.objects.none(),
        required=False,
        label="Only for the agreement",
        empty_label="Every agreement with the service",
        help_text="For an outage of one customer's site, say.",
    )
    description = forms.CharField(max_length=200, required=False)
    reference = forms.CharField(
        max_length=60,
        required=False,
        help_text="Your own reference; empty: OUT-<service>-<start>.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.visible_to(user).order_by("name")
        self.fields["agreement"].queryset = (
            Agreement.objects.visible_to(user)
            .filter(targets__metric=Metric.AVAILABILITY)
            .exclude(status__in=["expired", "terminated"])
            .select_related("customer")
            .distinct()
            .order_by("reference", "version")
        )
        self.fields["time_zone"].choices = [(z, z) for z in sorted(available_timezones())]
        self.fields["time_zone"].initial = settings.TIME_ZONE

    def clean(self):
        data = super().clean()
        zone = data.get("time_zone")
        if zone:
            for name in ("start", "end"):
                if data.get(name) is not None:
                    data[name] = local_time(self, name, data[name], zone)
        data.pop("time_zone", None)
        return data


def local_time(form, name: str, value, zone: str):
    """``value`` read in ``zone``; a time the clocks skip that day (the hour lost when summer
    time starts) is a field error naming it, not a time silently moved."""
    aware = value.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone))
    back = aware.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    if back != value.replace(tzinfo=None):
        form.add_error(
            name, f"{value:%H:%M} does not exist in {zone} on {value:%Y-%m-%d}: the clocks skip it."
        )
    return aware


class OutageEndForm(BootstrapFormMixin, forms.Form):
    end = forms.DateTimeField(widget=DATETIME, label="Ended")
    time_zone = forms.ChoiceField(label="Times are in")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(available_timezones())]
        self.fields["time_zone"].initial = settings.TIME_ZONE

    def clean(self):
        data = super().clean()
        zone = data.pop("time_zone", None)
        if zone and data.get("end") is not None:
            data["end"] = local_time(self, "end", data["end"], zone)
        return data
