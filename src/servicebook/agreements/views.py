"""Agreement pages: list, detail (prices for everyone, cost where the policy allows), forms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import DetailView, FormView

from servicebook import ports
from servicebook.agreements import services
from servicebook.agreements.filters import AgreementFilter, CalendarFilter
from servicebook.agreements.forms import (
    AcknowledgeForm,
    AgreementForm,
    AgreementStatusForm,
    CalendarForm,
    ChangeClauseForm,
    ConsiderationForm,
    CreditTierFormSet,
    LineForm,
    OutcomeForm,
    SignForm,
    TargetForm,
)
from servicebook.agreements.lifecycle.selectors import term_of
from servicebook.agreements.models import Agreement, AgreementLine, Calendar, ServiceLevelTarget
from servicebook.agreements.preview import describe_windows, holiday_place, preview
from servicebook.agreements.selectors import activation_blockers, jurisdiction_conflicts
from servicebook.agreements.tables import AgreementTable, CalendarTable
from servicebook.agreements.workflows import AGREEMENT
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
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
            can_set_levels=can_edit and editable,
            line_form=LineForm(user=user) if can_edit and editable else None,
            status_form=AgreementStatusForm() if can_edit else None,
            next_statuses=sorted(AGREEMENT.next_states(agreement)),
            term=term_of(agreement) if agreement.status not in services.EDITABLE_STATUSES else None,
            sections=self._sections(agreement),
            **kwargs,
        )

    def _sections(self, agreement) -> list[str]:
        """What higher apps add to the page (``ports.agreement_sections``), rendered."""
        rendered = []
        for section in ports.agreement_sections:
            part = section(agreement, self.request.user)
            if part is not None:
                context = {**part.context, "agreement": agreement}
                rendered.append(render_to_string(part.template, context, request=self.request))
        return [mark_safe(html) for html in rendered]


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


# --- service level settings: targets, credit tiers, change clauses ------------------------------


def settings_refusal(agreement: Agreement, *, credits=False, clauses=False) -> str:
    """Why a target, credit tier or change clause cannot be set on ``agreement`` now (empty
    when it can): the service's own questions, asked before the form is offered."""
    if agreement.status not in services.EDITABLE_STATUSES:
        return (
            f"This agreement is {agreement.get_status_display().lower()}: its service levels "
            "are changed on a new version (Amend on the agreement's page)."
        )
    policy = agreement.policy
    if credits and not policy.penalties_apply:
        return (
            f"A {policy.agreement_label.lower()} earns no service credits: "
            "a missed target leads to an improvement item instead."
        )
    if clauses and not policy.legally_binding:
        return (
            f"A {policy.agreement_label.lower()} has no change clauses: "
            "the customer co-authorizes each change instead."
        )
    return ""


class _SettingsView(_AgreementActionView):
    template_name = "agreements/settings_form.html"
    credits = clauses = False

    def get_context_data(self, **kwargs):
        refusal = settings_refusal(self.agreement, credits=self.credits, clauses=self.clauses)
        return super().get_context_data(refusal=refusal, **kwargs)


class TargetCreateView(_SettingsView):
    form_class = TargetForm
    title = "Add a service level target"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "agreement": self.agreement}

    def perform(self, data):
        return services.add_target(actor=self.request.user, agreement=self.agreement, **data)


class ClauseCreateView(_SettingsView):
    form_class = ChangeClauseForm
    title = "Add a change clause"
    clauses = True

    def perform(self, data):
        return services.add_change_clause(actor=self.request.user, agreement=self.agreement, **data)


class CreditTiersView(_SettingsView):
    """A contract target's credit schedule as a small formset: below X % → Y % credit."""

    form_class = CreditTierFormSet
    title = "Set credit tiers"
    credits = True

    def dispatch(self, request, *args, **kwargs):
        self.target = get_object_or_404(
            ServiceLevelTarget.objects.visible_to(request.user).select_related("calendar"),
            pk=kwargs["pk"],
        )
        kwargs["pk"] = self.target.agreement_id
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        kwargs["prefix"] = "tiers"
        return kwargs

    def get_initial(self):
        return [
            {"below_percent": tier.below_percent, "credit_percent": tier.credit_percent}
            for tier in self.target.credit_tiers.all()
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(target=self.target, **kwargs)

    def form_valid(self, form):
        try:
            services.set_credit_tiers(
                actor=self.request.user, target=self.target, tiers=form.tiers()
            )
        except DomainPermissionDenied as error:
            raise PermissionDenied(error.message) from error
        except (ValidationError, DomainError) as error:
            messages_of = error.messages if isinstance(error, ValidationError) else [str(error)]
            return self.render_to_response(
                self.get_context_data(form=form, service_errors=messages_of)
            )
        return redirect("agreements:detail", pk=self.agreement.pk)


# --- business calendars ------------------------------------------------------------------------


class CalendarListView(ListPage):
    title = "Business calendars"
    table_class = CalendarTable
    filterset_class = CalendarFilter
    template_name = "agreements/calendar_list.html"

    def get_queryset(self):
        return Calendar.objects.visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS), **kwargs
        )


def _preview_start(request, calendar: Calendar) -> dt.date:
    """The preview's first day: ``?start=YYYY-MM-DD`` if given and sane, else today there."""
    today = dt.datetime.now(ZoneInfo(calendar.time_zone)).date()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        return today
    return start if 1971 <= start.year <= 2999 else today


class CalendarDetailView(LoginRequiredMixin, DetailView):
    """A calendar's working windows, holidays, own closed dates and the next 14 days."""

    template_name = "agreements/calendar_detail.html"
    context_object_name = "calendar"

    def get_queryset(self):
        return Calendar.objects.visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        calendar = self.object
        start = _preview_start(self.request, calendar)
        targets = (
            calendar.targets.filter(agreement__in=Agreement.objects.visible_to(user))
            .select_related("agreement", "service")
            .order_by("agreement__reference", "agreement__version", "metric", "priority")
        )
        asked = self.request.GET.get("start", "")
        refused = asked and asked != start.isoformat()
        return super().get_context_data(
            days=preview(calendar, start),
            start=start,
            start_refused=f"“{asked[:40]}” is not a date from 1971 to 2999 (YYYY-MM-DD)"
            if refused
            else "",
            weekdays=describe_windows(calendar),
            holidays=holiday_place(calendar),
            own_dates=[
                (value, calendar.own_date_name(dt.date.fromisoformat(value)))
                for value in calendar.extra_holidays or []
            ],
            targets=targets[:50],
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS),
            **kwargs,
        )


class CalendarCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS
    form_class = CalendarForm
    template_name = "agreements/calendar_form.html"
    title = "New business calendar"

    def perform(self, data):
        return services.create_calendar(actor=self.request.user, **data["calendar_fields"])

    def get_success_url(self):
        return reverse("agreements:calendar", args=[self.object.pk])


class CalendarEditView(CalendarCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.calendar = get_object_or_404(
            Calendar.objects.visible_to(request.user), pk=kwargs["pk"]
        )
        self.title = f"Change {self.calendar.name}"
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return CalendarForm.initial_for(self.calendar)

    def get_context_data(self, **kwargs):
        return super().get_context_data(calendar=self.calendar, **kwargs)

    def perform(self, data):
        return services.update_calendar(
            actor=self.request.user, calendar=self.calendar, **data["calendar_fields"]
        )
