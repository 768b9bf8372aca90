"""The service catalog pages."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView

from servicebook.catalog import services
from servicebook.catalog.forms import OfferingForm, ServiceForm
from servicebook.catalog.models import Offering, Service
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.parties.models import Provider
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


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


class ServiceListView(_CatalogMixin, ListView):
    template_name = "catalog/service_list.html"
    context_object_name = "services"


class ServiceDetailView(_CatalogMixin, DetailView):
    template_name = "catalog/service_detail.html"
    context_object_name = "service"


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
