"""Importing tickets and outages from the page: the file is kept and a background job imports
it (``servicebook.levels.jobs``); the user is sent to the job's page (decision 0015)."""

from __future__ import annotations

from django import forms
from django.views.generic import FormView

from servicebook.levels import jobs, services
from servicebook.web.forms import BootstrapFormMixin
from servicebook.web.jobs import start_job
from servicebook.web.mixins import RoleRequiredMixin


class TicketImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(help_text="A ServiceNow incident event log export, or the generic CSV.")
    format = forms.ChoiceField(choices=[("servicenow", "ServiceNow"), ("csv", "Generic CSV")])
    agreement = forms.CharField(
        max_length=60,
        required=False,
        help_text="Agreement reference for rows without an 'agreement' column.",
    )
    source = forms.CharField(
        max_length=40, required=False, help_text="Source system name (default: the format)."
    )
    time_zone = forms.CharField(
        max_length=60, initial="UTC", help_text="IANA zone of times without an offset."
    )


class OutageImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        help_text="CSV: reference, service, start[, end, agreement, planned, description]."
    )
    time_zone = forms.CharField(max_length=60, initial="UTC")


class TicketImportView(RoleRequiredMixin, FormView):
    """Upload a ticket export: it is imported in the background, with a progress bar."""

    required_roles = services.LEVEL_EDITORS
    template_name = "levels/import.html"
    form_class = TicketImportForm
    kind = jobs.IMPORT_TICKETS
    what = "tickets"

    def get_context_data(self, **kwargs):
        return super().get_context_data(what=self.what, **kwargs)

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        upload = data.pop("file")
        params = {**data, "filename": upload.name}
        title = f"{'Ticket' if self.what == 'tickets' else 'Outage'} import · {upload.name}"
        return start_job(self.request, kind=self.kind, params=params, upload=upload, title=title)


class OutageImportView(TicketImportView):
    """Upload an outage file: imported in the background."""

    form_class = OutageImportForm
    kind = jobs.IMPORT_OUTAGES
    what = "outages"
