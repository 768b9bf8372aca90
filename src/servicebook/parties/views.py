"""Customer pages: list (staff), detail (staff and the customer's own users), forms."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView

from servicebook.agreements.models import Agreement, AgreementLine
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.core.tenancy import customer_of
from servicebook.parties import services
from servicebook.parties.forms import ContactForm, CustomerForm, CustomerStatusForm
from servicebook.parties.models import Customer, CustomerStatus, Provider
from servicebook.policy import KIND_CHOICES
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


class CustomerListView(LoginRequiredMixin, ListView):
    """All customers for provider staff, filterable live (htmx); customer users go to their own."""

    paginate_by = 50

    def get(self, request, *args, **kwargs):
        own = customer_of(request.user)
        if own is not None:
            return redirect("parties:detail", pk=own.pk)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = Customer.objects.visible_to(self.request.user).select_related("provider")
        params = self.request.GET
        if q := params.get("q", "").strip():
            queryset = queryset.filter(
                Q(name__icontains=q) | Q(code__icontains=q) | Q(legal_name__icontains=q)
            )
        if kind := params.get("kind"):
            queryset = queryset.filter(kind=kind)
        if status := params.get("status"):
            queryset = queryset.filter(status=status)
        return queryset

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["parties/_customer_rows.html"]
        return ["parties/customer_list.html"]

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            kinds=KIND_CHOICES,
            statuses=CustomerStatus.choices,
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS),
            **kwargs,
        )


class CustomerDetailView(LoginRequiredMixin, DetailView):
    template_name = "parties/customer_detail.html"
    context_object_name = "customer"

    def get_queryset(self):
        lines = AgreementLine.objects.select_related("offering__service").prefetch_related(
            "offering__tiers"
        )
        agreements = Agreement.objects.prefetch_related(Prefetch("lines", queryset=lines))
        return (
            Customer.objects.visible_to(self.request.user)
            .select_related("provider")
            .prefetch_related(
                "contacts", Prefetch("agreements", queryset=agreements), "events__actor"
            )
        )

    def get_context_data(self, **kwargs):
        customer = self.object
        agreements = list(customer.agreements.all())
        monthly = [a.monthly_charge() for a in agreements if a.status == "active"]
        user = self.request.user
        return super().get_context_data(
            policy=customer.policy,
            agreements=agreements,
            monthly_charge=sum((m for m in monthly if m is not None), Decimal(0)),
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS),
            can_change_status=is_provider_staff(user) and has_role(user, *EDITORS, Role.FINANCE),
            **kwargs,
        )


class CustomerCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS
    form_class = CustomerForm
    template_name = "parties/customer_form.html"

    def perform(self, data):
        return services.create_customer(
            actor=self.request.user, provider=Provider.current(), **data
        )

    def get_success_url(self):
        return reverse("parties:detail", args=[self.object.pk])


class _CustomerActionView(RoleRequiredMixin, ServiceFormMixin, FormView):
    """A form acting on one customer, then back to its page."""

    required_roles = EDITORS

    def dispatch(self, request, *args, **kwargs):
        self.customer = get_object_or_404(Customer, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, **kwargs)

    def get_success_url(self):
        return reverse("parties:detail", args=[self.customer.pk])


class CustomerUpdateView(_CustomerActionView):
    form_class = CustomerForm
    template_name = "parties/customer_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.customer}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["kind"].disabled = True
        return form

    def perform(self, data):
        data.pop("kind", None)
        return services.update_customer(actor=self.request.user, customer=self.customer, **data)


class CustomerStatusView(_CustomerActionView):
    required_roles = (*EDITORS, Role.FINANCE)
    form_class = CustomerStatusForm
    template_name = "parties/customer_status_form.html"

    def perform(self, data):
        return services.change_customer_status(
            actor=self.request.user, customer=self.customer, **data
        )


class ContactCreateView(_CustomerActionView):
    form_class = ContactForm
    template_name = "parties/contact_form.html"

    def perform(self, data):
        return services.create_contact(actor=self.request.user, customer=self.customer, **data)
