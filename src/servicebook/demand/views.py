"""Demand pages: list, detail (challenge or check), forms, and the capacity competition page."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, TemplateView

from servicebook.core import params
from servicebook.core.charts import chart_json
from servicebook.core.periods import period_of
from servicebook.core.roles import is_provider_staff
from servicebook.core.tenancy import customer_of
from servicebook.demand import selectors, services, strategy
from servicebook.demand.api import demand_queryset
from servicebook.demand.filters import DemandFilter
from servicebook.demand.forms import (
    AlternativeForm,
    ApproveForm,
    BusinessCaseForm,
    CapacityNeedForm,
    ChooseForm,
    DemandForm,
    ExternalCheckForm,
    JustifyForm,
    RefuseForm,
    RejectForm,
    ServeObjectiveForm,
)
from servicebook.demand.models import DemandRequest
from servicebook.demand.tables import DemandTable
from servicebook.policy import policy_for
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin


def _is_manager(user) -> bool:
    return services.may_manage(user)


def _may_request(user) -> bool:
    return services.may_manage(user) or customer_of(user) is not None


class DemandListView(ListPage):
    title = "Demand and investment requests"
    export_name = "demand"
    context_object_name = "demands"
    table_class = DemandTable
    filterset_class = DemandFilter
    template_name = "demand/demand_list.html"

    def get_queryset(self):
        return DemandRequest.objects.visible_to(self.request.user).select_related(
            "customer", "requester", "chosen"
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(may_request=_may_request(self.request.user), **kwargs)


class DemandDetailView(LoginRequiredMixin, DetailView):
    template_name = "demand/demand_detail.html"
    context_object_name = "demand"

    def get_queryset(self):
        return demand_queryset().visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        demand = self.object
        policy = policy_for(demand.customer)
        is_open = demand.status in services.OPEN
        cheaper = services.cheaper_compliant(demand) if demand.chosen_id else None
        blockers = services.blockers_shown_to(user, demand) if is_open else []
        alternatives = list(demand.alternatives.all())
        requirement_ids = {r.pk for r in demand.requirements.all()}
        rows = [
            (
                alt,
                {r.pk for r in alt.meets.all()},
                requirement_ids <= {r.pk for r in alt.meets.all()},
            )
            for alt in alternatives
        ]
        return super().get_context_data(
            policy=policy,
            is_open=is_open,
            can_manage=_is_manager(user),
            may_justify=services.may_justify(user),
            may_choose=services.may_choose(user, demand),
            is_customer=not is_provider_staff(user),
            reasons=[r for _, r in services.justification_reasons(demand)],
            case=getattr(demand, "business_case", None),
            check=getattr(demand, "external_check", None),
            rows=rows,
            requirements=list(demand.requirements.all()),
            cheaper=cheaper,
            difference=services.difference_percent(demand) if cheaper else None,
            blockers=blockers,
            events=demand.events.select_related("actor"),
            objective_links=demand.objective_links.select_related("objective"),
            refusal=demand.events.filter(action="refused").last(),
            **kwargs,
        )


class DemandCreateView(LoginRequiredMixin, ServiceFormMixin, FormView):
    form_class = DemandForm
    template_name = "demand/action_form.html"
    extra_context = {"title": "New demand or investment request"}

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not _may_request(user):
            raise DjangoPermissionDenied("Your role does not allow this page.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        user = self.request.user
        return {**super().get_form_kwargs(), "user": user, "staff": is_provider_staff(user)}

    def perform(self, data):
        customer = data.pop("customer")
        return services.create_demand(actor=self.request.user, customer=customer, **data)

    def get_success_url(self):
        return reverse("demand:detail", args=[self.object.pk])


def _manager(user, demand) -> bool:
    return services.may_manage(user)


def _justifier(user, demand) -> bool:
    return services.may_justify(user)


#: step → (form, service, title, who may (the same question the detail page asks))
STEPS = {
    "business-case": (BusinessCaseForm, services.record_business_case, "Business case", _manager),
    "alternative": (AlternativeForm, services.add_alternative, "Add an alternative", _manager),
    "choose": (ChooseForm, services.choose_alternative, "Choose an option", services.may_choose),
    "justify": (
        JustifyForm,
        services.record_justification,
        "Senior-management justification",
        _justifier,
    ),
    "check": (
        ExternalCheckForm,
        services.record_external_check,
        "Legal, possible, profitable",
        _manager,
    ),
    "capacity": (CapacityNeedForm, services.set_capacity_need, "Capacity needed", _manager),
    "approve": (ApproveForm, services.approve_demand, "Approve", _manager),
    "reject": (RejectForm, services.reject_demand, "Reject", _manager),
    "objective": (
        ServeObjectiveForm,
        strategy.serve_objective,
        "Name an objective it serves",
        _manager,
    ),
    "refuse": (RefuseForm, strategy.refuse_demand, "Refuse the request", _manager),
}
NEEDS_DEMAND = {"alternative", "choose", "approve", "objective", "refuse"}


class DemandStepView(LoginRequiredMixin, ServiceFormMixin, FormView):
    template_name = "demand/action_form.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        step = kwargs["step"]
        if step not in STEPS:
            raise Http404("no such step")
        self.step = step
        self.form_class, self.service, self.title, may = STEPS[step]
        self.demand = get_object_or_404(
            DemandRequest.objects.visible_to(request.user), pk=kwargs["pk"]
        )
        if not may(request.user, self.demand):
            raise DjangoPermissionDenied("Your role does not allow this page.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.step in NEEDS_DEMAND:
            kwargs["demand"] = self.demand
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(demand=self.demand, title=self.title, **kwargs)

    def perform(self, data):
        return self.service(actor=self.request.user, demand=self.demand, **data)

    def get_success_url(self):
        return reverse("demand:detail", args=[self.demand.pk])


class CapacityView(RoleRequiredMixin, TemplateView):
    """Internal customers competing for the same pools, by business value (provider staff)."""

    template_name = "demand/capacity.html"

    def get_context_data(self, **kwargs):
        period = params.period(self.request.GET.get("period"), period_of(timezone.localdate()))
        pools = selectors.capacity_competition(period)
        kwargs["period"] = period
        for view in pools:
            view.chart = chart_json(
                [c.customer.name for c in view.competitors],
                [c.reserved + c.requested for c in view.competitors],
                view.pool.unit,
            )
        return super().get_context_data(pools=pools, **kwargs)
