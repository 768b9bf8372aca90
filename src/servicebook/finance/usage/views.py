"""Usage pages (staff only): the usage store's imports with counts, totals and rejects; one
import and, for a cloud bill, its allocation report; the cloud mappings."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView, TemplateView

from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.params import object_id
from servicebook.core.roles import has_role
from servicebook.core.services import require_role
from servicebook.finance.job_names import IMPORT_USAGE
from servicebook.finance.ledger.views import download
from servicebook.finance.usage import selectors, services
from servicebook.finance.usage.backends import usage_store
from servicebook.finance.usage.focus import exact_text
from servicebook.finance.usage.forms import CloudMappingForm, UsageImportForm
from servicebook.finance.usage.models import CloudMapping, UsageImport
from servicebook.web.jobs import start_job
from servicebook.web.mixins import RoleRequiredMixin, add_service_errors


class UsageView(RoleRequiredMixin, TemplateView):
    """The usage store: imports (the manifest) with counts and rejects; import a file."""

    template_name = "finance/usage.html"

    def get_context_data(self, **kwargs):
        editor = has_role(self.request.user, *services.USAGE_EDITORS)
        return super().get_context_data(
            imports=UsageImport.objects.select_related("imported_by")[:200],
            form=kwargs.pop("form", None) or (UsageImportForm() if editor else None),
            result=kwargs.pop("result", None),
            store_root=usage_store().root,
            periods=usage_store().periods(),
            **kwargs,
        )

    def post(self, request):
        """Queue the import as a background job and show its page (decision 0015)."""
        form = UsageImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        upload = data.pop("file")
        if "exchange_rate" in data:
            data["exchange_rate"] = str(data["exchange_rate"])
        return start_job(
            request,
            kind=IMPORT_USAGE,
            params={**data, "filename": upload.name},
            upload=upload,
            title=f"Usage import · {upload.name}",
        )


class UsageImportDetailView(RoleRequiredMixin, DetailView):
    """One import: counts, totals, rejects; for a FOCUS bill its allocation report."""

    template_name = "finance/usage_import.html"
    context_object_name = "record"

    def get_queryset(self):
        return UsageImport.objects.visible_to(self.request.user).select_related(
            "offering", "imported_by"
        )

    def get_context_data(self, **kwargs):
        record = self.object
        months = selectors.allocation_report(record) if record.format == "focus" else []
        whole = {
            part: sum((Decimal(m[part]) for m in months), Decimal(0))
            for part in ("allocated", "shared", "unallocated", "total")
        }
        return super().get_context_data(
            months=months,
            whole={part: exact_text(value) for part, value in whole.items()},
            whole_adds_up=whole["allocated"] + whole["shared"] + whole["unallocated"]
            == whole["total"],
            events=record.events.select_related("actor"),
            **kwargs,
        )


class UsageRejectsView(RoleRequiredMixin, View):
    def get(self, request, pk):
        record = get_object_or_404(UsageImport.objects.visible_to(request.user), pk=pk)
        content = selectors.rejects_content(record)
        if content is None:
            raise Http404
        return download(content, f"rejects-{record.pk}.csv", "text/csv")


class CloudMappingsView(RoleRequiredMixin, TemplateView):
    """Rules sending cloud cost (FOCUS rows) to customers: by resource, tag or sub-account."""

    template_name = "finance/cloud_mappings.html"

    def get_context_data(self, **kwargs):
        editor = has_role(self.request.user, *services.USAGE_EDITORS)
        return super().get_context_data(
            mappings=CloudMapping.objects.select_related("customer"),
            form=kwargs.pop("form", None)
            or (CloudMappingForm(search=self.request.GET.get("q", "")) if editor else None),
            editor=editor,
            **kwargs,
        )

    def post(self, request):
        try:
            # who may change the rules is checked before the form is read
            require_role(
                request.user, *services.USAGE_EDITORS, action="Changing cloud cost allocation"
            )
            if request.POST.get("action") == "delete":
                mapping = get_object_or_404(
                    CloudMapping.objects.visible_to(request.user),
                    pk=object_id(request.POST.get("pk")) or 0,
                )
                services.delete_cloud_mapping(actor=request.user, mapping=mapping)
                messages.info(request, f"Removed: {mapping}.")
                return redirect("finance:cloud-mappings")
            form = CloudMappingForm(request.POST)
            if form.is_valid():
                try:
                    mapping = services.set_cloud_mapping(actor=request.user, **form.cleaned_data)
                except (ValidationError, DomainError) as error:
                    if isinstance(error, DomainPermissionDenied):
                        raise
                    add_service_errors(form, error)
                else:
                    messages.success(request, f"Saved: {mapping}.")
                    return redirect("finance:cloud-mappings")
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        return self.render_to_response(self.get_context_data(form=form))
