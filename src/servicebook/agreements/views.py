"""Agreement pages: list, detail (prices for everyone, cost where the policy allows), forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView

from servicebook.agreements import services
from servicebook.agreements.filters import AgreementFilter
from servicebook.agreements.forms import (
    AcknowledgeForm,
    AgreementForm,
    AgreementStatusForm,
    ConsiderationForm,
    LineForm,
    OutcomeForm,
    SignForm,
)
from servicebook.agreements.models import Agreement, AgreementLine
from servicebook.agreements.selectors import activation_blockers, jurisdiction_conflicts
from servicebook.agreements.tables import AgreementTable
from servicebook.agreements.workflows import AGREEMENT
from servicebook.core.errors import DomainError
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


def _with_lines(queryset):
    lines = AgreementLine.objects.select_related("offering__service").prefetch_related(
        "offering__tiers"
    )
    return queryset.select_related("customer__provider").prefetch_related(
        Prefetch("lines", queryset=lines)
    )


class AgreementListView(ListPage):
    title = "Agreements"
    context_object_name = "agreements"
    table_class = AgreementTable
    filterset_class = AgreementFilter
    template_name = "agreements/agreement_list.html"

    def get_queryset(self):
        return _with_lines(Agreement.objects.visible_to(self.request.user)).prefetch_related(
            "consideration_items"
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS), **kwargs
        )


class AgreementDetailView(LoginRequiredMixin, DetailView):
    template_name = "agreements/agreement_detail.html"
    context_object_name = "agreement"

    def get_queryset(self):
        return (
            _with_lines(Agreement.objects.visible_to(self.request.user))
            .select_related("due_diligence")
            .prefetch_related(
                "events__actor",
                "signatures__contact",
                "consideration_items",
                "outcomes",
                "acknowledgements__contact",
                "acknowledgements__service",
            )
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        agreement = self.object
        editable = agreement.status in services.EDITABLE_STATUSES
        can_edit = is_provider_staff(user) and has_role(user, *EDITORS)
        conflicts = jurisdiction_conflicts(agreement)
        return super().get_context_data(
            policy=agreement.policy,
            blockers=activation_blockers(agreement) if editable and can_edit else [],
            conflicts=conflicts,
            versions=Agreement.objects.filter(reference=agreement.reference).order_by("version"),
            lines=list(agreement.lines.all()),
            targets=agreement.targets.select_related("calendar", "service").prefetch_related(
                "credit_tiers"
            ),
            clauses=agreement.clauses.all(),
            can_edit=can_edit,
            line_form=LineForm(user=user) if can_edit and editable else None,
            status_form=AgreementStatusForm() if can_edit else None,
            next_statuses=sorted(AGREEMENT.next_states(agreement)),
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


class SignView(_AgreementActionView):
    form_class = SignForm
    template_name = "agreements/action_form.html"
    title = "Record a signature"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "agreement": self.agreement}

    def perform(self, data):
        return services.sign_agreement(
            actor=self.request.user, agreement=self.agreement, contact=data["contact"]
        )


class OutcomeView(_AgreementActionView):
    form_class = OutcomeForm
    template_name = "agreements/action_form.html"
    title = "Record a desired business outcome"

    def perform(self, data):
        return services.add_outcome(actor=self.request.user, agreement=self.agreement, **data)


class AcknowledgeView(_AgreementActionView):
    form_class = AcknowledgeForm
    template_name = "agreements/action_form.html"
    title = "Record the customer's acknowledgement of a data-location conflict"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "agreement": self.agreement,
            "conflicts": jurisdiction_conflicts(self.agreement),
        }

    def perform(self, data):
        return services.acknowledge_jurisdiction(
            actor=self.request.user, agreement=self.agreement, **data
        )


class ConsiderationView(_AgreementActionView):
    form_class = ConsiderationForm
    template_name = "agreements/action_form.html"
    title = "Consideration: how a month of the contract is settled"
    required_roles = (*EDITORS, Role.FINANCE)

    def get_initial(self):
        return {
            "contract_value": self.agreement.contract_value or self.agreement.monthly_price(),
            "cash": self.agreement.consideration_cash,
        }

    def perform(self, data):
        items = []
        if data.get("item_description"):
            items.append(
                {
                    "description": data["item_description"],
                    "unit_value": data["item_unit_value"],
                    "quantity": data["item_quantity"],
                }
            )
        return services.set_consideration(
            actor=self.request.user,
            agreement=self.agreement,
            contract_value=data["contract_value"],
            cash=data["cash"],
            in_kind=items,
        )


class AmendView(RoleRequiredMixin, View):
    """POST: start a new version of an active agreement, then open it."""

    required_roles = EDITORS

    def post(self, request, pk):
        agreement = get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)
        try:
            new = services.amend_agreement(actor=request.user, agreement=agreement)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("agreements:detail", pk=pk)
        messages.success(
            request,
            f"Version {new.version} drafted; version {agreement.version} "
            "stays in force until it is activated.",
        )
        return redirect("agreements:detail", pk=new.pk)


class AgreementStatusView(_AgreementActionView):
    form_class = AgreementStatusForm
    template_name = "agreements/status_form.html"

    def perform(self, data):
        return services.change_agreement_status(
            actor=self.request.user, agreement=self.agreement, **data
        )
