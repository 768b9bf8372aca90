"""Attached files on a record's page (issue 18): the upload form and the download.

Every kind of record that takes files (contracts, due-diligence evidence, design specifications,
changes) is declared by its app (``servicebook.ports.attachables``); one upload route per kind,
``/attachments/<kind>/<record id>/``, and one download route, ``/attachments/<id>/``. A user who
may not see the record gets 404 (another customer's contract does not exist for them); one who
sees it but may not edit it gets 403 and is never offered the form.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.generic import FormView

from servicebook.core import attachments
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.models import Attachment
from servicebook.web.mixins import add_service_errors

#: Types a browser could run or render as a page: always sent as plain bytes.
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}


class AttachmentForm(forms.Form):
    file = forms.FileField(label="File", allow_empty_file=True)
    description = forms.CharField(
        label="Description", required=False, max_length=300, help_text="What the file is."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"At most {attachments.size_text(attachments.max_bytes())}."


class AttachView(LoginRequiredMixin, FormView):
    """Add a file to one record of ``kind`` (GET: the form alone; the record's page shows it)."""

    form_class = AttachmentForm
    template_name = "web/attachment_form.html"
    kind: attachments.AttachableKind | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        kind = self.kind
        assert kind is not None
        records = attachments.visible_records(request.user, kind)
        self.record = get_object_or_404(records, pk=kwargs["pk"])
        if not kind.may_attach(request.user, self.record):
            raise DjangoPermissionDenied(
                f"Your role does not allow adding files to this {kind.title}."
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            record=self.record, kind=self.kind, record_page=self.kind.page(self.record), **kwargs
        )

    def form_valid(self, form):
        try:
            attachment = attachments.attach(
                actor=self.request.user,
                record=self.record,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except DomainError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{attachment.filename} attached.")
        return HttpResponseRedirect(self.kind.page(self.record))

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@login_required
def download(request, pk: int):
    """The file, as a download (never shown in the browser), to whoever may see its record."""
    attachment = get_object_or_404(Attachment.objects.visible_to(request.user), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404("The file is no longer in storage.") from error
    media_type = attachment.media_type or "application/octet-stream"
    if media_type in ACTIVE_TYPES or media_type.startswith("multipart/"):
        media_type = "application/octet-stream"
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=media_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def urlpatterns() -> list:
    """The download route and one upload route per kind of record the apps declared."""
    routes = [path("attachments/<int:pk>/", download, name="attachment")]
    for name, kind in sorted(attachments.kinds().items()):
        routes.append(
            path(
                f"attachments/{name}/<int:pk>/",
                AttachView.as_view(kind=kind),
                name=f"attach-{name}",
            )
        )
    return routes
