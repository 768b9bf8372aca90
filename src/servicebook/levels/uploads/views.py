"""Importing tickets and outages from the page: the file is kept and a background job imports
it (``servicebook.levels.jobs``); the user is sent to the job's page (decision 0015)."""

from __future__ import annotations

from django import forms
from django.views.generic import FormView

from servicebook.agreements.models import Agreement
from servicebook.levels import jobs, services
from servicebook.web.forms import BootstrapFormMixin
from servicebook.web.jobs import start_job
from servicebook.web.mixins import RoleRequiredMixin


class TicketImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(help_text="A ServiceNow incident event log export, or the generic CSV.")
    format = forms.ChoiceField(
        choices=[("servicenow", "ServiceNow incident export"), ("csv", "Generic CSV")],
        label="File format",
    )
    agreement = forms.ChoiceField(
        required=False,
        label="Agreement",
        help_text="The agreement the tickets belong to; leave it on the file's own column when "
        "the file names an agreement on each row.",
    )
    source = forms.CharField(
        max_length=40, required=False, help_text="Source system name (default: the format)."
    )
    time_zone = forms.CharField(
        max_length=60, initial="UTC", help_text="IANA zone of times without an offset."
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].choices = [
            ("", "Named on each row of the file (an 'agreement' column)"),
            *import_choices(user),
        ]


def import_choices(user) -> list[tuple[str, str]]:
    """The agreements ``user`` may import tickets for, one per reference (tickets go to its
    active version, else its latest), as (reference, "reference (customer)")."""
    seen: dict[str, str] = {}
    agreements = (
        Agreement.objects.visible_to(user)
        .exclude(status__in=["expired", "terminated"])
        .select_related("customer")
        .order_by("reference", "-version")
    )
    for agreement in agreements:
        seen.setdefault(
            agreement.reference,
            f"{agreement.reference} ({agreement.customer.name})",
        )
    return list(seen.items())


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

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.form_class is TicketImportForm:
            kwargs["user"] = self.request.user
        return kwargs

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
