"""Pages of the contract's life: renew an agreement, record a termination notice."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from servicebook.agreements.lifecycle import services
from servicebook.agreements.lifecycle.forms import NoticeForm
from servicebook.agreements.models import Agreement
from servicebook.agreements.services import AGREEMENT_EDITORS
from servicebook.agreements.views import _AgreementActionView
from servicebook.core.errors import DomainError
from servicebook.web.mixins import RoleRequiredMixin


class RenewView(RoleRequiredMixin, View):
    """POST: draft the next term as a new version, then open it."""

    required_roles = AGREEMENT_EDITORS

    def post(self, request, pk):
        agreement = get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)
        try:
            new = services.renew_agreement(actor=request.user, agreement=agreement)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("agreements:detail", pk=pk)
        messages.success(
            request,
            f"Version {new.version} drafted for the term {new.start_date} to {new.end_date}: "
            "negotiate, sign and activate it.",
        )
        return redirect("agreements:detail", pk=new.pk)


class NoticeView(_AgreementActionView):
    form_class = NoticeForm
    template_name = "agreements/action_form.html"
    title = "Record a termination notice"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "agreement": self.agreement}

    def perform(self, data):
        return services.give_notice(
            actor=self.request.user,
            agreement=self.agreement,
            given_by=data["given_by"],
            reason=data["reason"],
            effective=data.get("effective"),
            contact=data.get("contact"),
            on=data.get("given_on"),
        )
