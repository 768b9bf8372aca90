"""Agreement pages: list, detail (prices for everyone, cost where the policy allows), forms."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView

from servicebook.agreements import services
from servicebook.agreements.forms import AgreementForm, AgreementStatusForm, LineForm
from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


def _with_lines(queryset):
    lines = AgreementLine.objects.select_related("offering__service").prefetch_related(
        "offering__tiers"
    )
    return queryset.select_related("customer__provider").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


class AgreementListView(LoginRequiredMixin, ListView):
    template_name = "agreements/agreement_list.html"
    context_object_name = "agreements"
    paginate_by = 50

    def get_queryset(self):
        queryset = _with_lines(Agreement.objects.visible_to(self.request.user))
        if status := self.request.GET.get("status"):
            queryset = queryset.filter(status=status)
        return queryset

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            statuses=AgreementStatus.choices,
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS),
            **kwargs,
        )


class AgreementDetailView(LoginRequiredMixin, DetailView):
    template_name = "agreements/agreement_detail.html"
    context_object_name = "agreement"

    def get_queryset(self):
        return _with_lines(Agreement.objects.visible_to(self.request.user)).prefetch_related(
            "events__actor"
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        agreement = self.object
        editable = agreement.status in services.EDITABLE_STATUSES
        can_edit = is_provider_staff(user) and has_role(user, *EDITORS)
        return super().get_context_data(
            policy=agreement.policy,
            lines=list(agreement.lines.all()),
            targets=agreement.targets.select_related("calendar", "service").prefetch_related(
                "credit_tiers"
            ),
            clauses=agreement.clauses.all(),
            can_edit=can_edit,
            line_form=LineForm(user=user) if can_edit and editable else None,
            status_form=AgreementStatusForm() if can_edit else None,
            next_statuses=sorted(services.AGREEMENT_TRANSITIONS[agreement.status]),
            **kwargs,
        )


class AgreementCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS
    form_class = AgreementForm
    template_name = "agreements/agreement_form.html"

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user}
        if customer := self.request.GET.get("customer"):
            kwargs.setdefault("initial", {})["customer"] = customer
        return kwargs

    def perform(self, data):
        customer = data.pop("customer")
        return services.create_agreement(actor=self.request.user, customer=customer, **data)

    def get_success_url(self):
        return reverse("agreements:detail", args=[self.object.pk])


class _AgreementActionView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS

    def dispatch(self, request, *args, **kwargs):
        self.agreement = get_object_or_404(
            Agreement.objects.visible_to(request.user), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement, **kwargs)

    def get_success_url(self):
        return reverse("agreements:detail", args=[self.agreement.pk])


class LineCreateView(_AgreementActionView):
    form_class = LineForm
    template_name = "agreements/line_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, data):
        return services.add_line(actor=self.request.user, agreement=self.agreement, **data)


class AgreementStatusView(_AgreementActionView):
    form_class = AgreementStatusForm
    template_name = "agreements/status_form.html"

    def perform(self, data):
        return services.change_agreement_status(
            actor=self.request.user, agreement=self.agreement, **data
        )
