"""The service catalog pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView

from servicebook.catalog import services
from servicebook.catalog.filters import ServiceFilter
from servicebook.catalog.forms import OfferingForm, ServiceForm, SignOffForm, SpecificationForm
from servicebook.catalog.models import DesignSpecification, Offering, Service
from servicebook.catalog.selectors import go_live_blockers
from servicebook.catalog.tables import ServiceTable
from servicebook.core.errors import DomainError
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.parties.models import Customer, Provider
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


def visible(user):
    return Customer.objects.visible_to(user)


def _offerings(user):
    return Prefetch(
        "offerings",
        queryset=Offering.objects.visible_to(user).prefetch_related("tiers"),
        to_attr="visible_offerings",
    )


class _CatalogMixin(LoginRequiredMixin):
    """Services the user may see, each with the offerings the user may see."""

    def get_queryset(self):
        user = self.request.user
        return Service.objects.visible_to(user).prefetch_related(_offerings(user))

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS), **kwargs
        )


class ServiceListView(_CatalogMixin, ListPage):
    title = "Service catalog"
    export_name = "services"
    context_object_name = "services"
    table_class = ServiceTable
    filterset_class = ServiceFilter
    template_name = "catalog/service_list.html"

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        if not is_provider_staff(self.request.user):
            kwargs["exclude"] = (*kwargs["exclude"], "status", "offered_to")
        return kwargs


class ServiceDetailView(_CatalogMixin, DetailView):
    template_name = "catalog/service_detail.html"
    context_object_name = "service"

    def get_context_data(self, **kwargs):
        service = self.object
        user = self.request.user
        return super().get_context_data(
            specifications=DesignSpecification.objects.visible_to(user)
            .filter(service=service)
            .select_related("customer", "signed_off_by"),
            go_live_blockers=go_live_blockers(service) if service.status == "pipeline" else [],
            satisfaction=service.feedback.filter(
                topic="satisfaction", customer__in=visible(user)
            ).aggregate(average=Avg("score"), answers=Count("pk")),
            design_feedback=service.feedback.filter(topic="design", customer__in=visible(user)),
            **kwargs,
        )


class ServiceCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS
    form_class = ServiceForm
    template_name = "catalog/service_form.html"

    def perform(self, data):
        return services.create_service(actor=self.request.user, provider=Provider.current(), **data)

    def get_success_url(self):
        return reverse("catalog:detail", args=[self.object.pk])


class OfferingCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = (*EDITORS, Role.FINANCE)
    form_class = OfferingForm
    template_name = "catalog/offering_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.service = get_object_or_404(Service, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(service=self.service, **kwargs)

    def perform(self, data):
        return services.create_offering(actor=self.request.user, service=self.service, **data)

    def get_success_url(self):
        return reverse("catalog:detail", args=[self.service.pk])


class _ServiceActionView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS
    template_name = "catalog/action_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.service = get_object_or_404(Service, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(service=self.service, **kwargs)

    def get_success_url(self):
        return reverse("catalog:detail", args=[self.service.pk])


class SpecificationCreateView(_ServiceActionView):
    form_class = SpecificationForm
    title = "New design specification version"

    def perform(self, data):
        return services.create_specification(actor=self.request.user, service=self.service, **data)


class SignOffView(_ServiceActionView):
    form_class = SignOffForm
    title = "Record the customer's sign-off"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "service": self.service}

    def perform(self, data):
        return services.sign_off_specification(
            actor=self.request.user, specification=data["specification"], contact=data["contact"]
        )


class ServiceStatusView(RoleRequiredMixin, View):
    """POST: move a service to another status (going live checks the sign-offs, R10)."""

    required_roles = EDITORS

    def post(self, request, pk):
        service = get_object_or_404(Service, pk=pk)
        try:
            services.update_service(
                actor=request.user, service=service, status=request.POST.get("status", "")
            )
        except (DomainError, ValidationError) as error:
            messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
        return redirect("catalog:detail", pk=pk)
