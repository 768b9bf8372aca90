"""Order pages (issue 15): the orders a user may see, ordering from the catalog, deciding.

Customer users order from the catalog their policy lets them see; what they are shown per unit
is what they will be charged (the cost of service with the budget left for an internal customer,
the price for an external one: never a cost, R7). Approvers of the same customer approve or
reject; service managers see every order.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView

from servicebook import ports
from servicebook.agreements.filters import OrderFilter
from servicebook.agreements.orders import services
from servicebook.agreements.orders.models import Order, OrderBasis, OrderStatus
from servicebook.agreements.orders.selectors import (
    budget_left,
    effective_from,
    effective_period,
    orderable_agreements,
    orderable_offerings,
    orders_awaiting_approval,
)
from servicebook.agreements.tables import OrderTable
from servicebook.core.tenancy import customer_of
from servicebook.parties.authority import contact_for_user
from servicebook.policy import policy_for, user_may_see_cost
from servicebook.web.forms import BootstrapFormMixin
from servicebook.web.lists import ListPage
from servicebook.web.mixins import ServiceFormMixin


def may_decide(user, order: Order) -> bool:
    """Whether ``user`` is one of the order's recorded approvers and it awaits approval."""
    return (
        order.status == OrderStatus.AWAITING_APPROVAL
        and order.approvers.filter(user=user, active=True).exists()
    )


def rate_label(customer) -> str:
    """How a customer's per-unit figure is named: what it is charged, in its own terms."""
    return "Cost charged per unit" if policy_for(customer).charged_at_cost else "Price per unit"


#: The longest note or reason, as the API's (``orders.api``).
TEXT_LIMIT = 2000


class OrderForm(BootstrapFormMixin, forms.Form):
    agreement = forms.ModelChoiceField(queryset=None)
    offering = forms.ModelChoiceField(queryset=None)
    quantity = forms.CharField(help_text="Units a month to add, e.g. 5 or 2.5.")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=TEXT_LIMIT
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = orderable_agreements(user)
        self.fields["offering"].queryset = orderable_offerings(user)


class DecisionForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=TEXT_LIMIT,
        help_text="Required to reject.",
    )


class OrderListView(ListPage):
    """Orders on the list component: search, status/customer/agreement/offering filters,
    sorting, CSV/XLSX export; the orders waiting for the user's approval above."""

    title = "Orders"
    export_name = "orders"
    table_class = OrderTable
    filterset_class = OrderFilter
    template_name = "agreements/order_list.html"
    hidden_filters = ("customer", "agreement")

    def get_queryset(self):
        return (
            Order.objects.visible_to(self.request.user)
            .select_related("agreement__customer", "offering", "requester")
            .order_by("-created_at", "-pk")
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        customer = customer_of(user)
        return super().get_context_data(
            to_approve=list(orders_awaiting_approval(user)[:50]),
            may_order=customer is not None and contact_for_user(user, customer) is not None,
            **kwargs,
        )


class OrderCreateView(LoginRequiredMixin, ServiceFormMixin, FormView):
    template_name = "agreements/order_form.html"
    form_class = OrderForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and customer_of(request.user) is None:
            raise PermissionDenied("Ordering is for customer users; staff amend agreements.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        customer = customer_of(self.request.user)
        today = timezone.localdate()
        period = effective_period(today)
        budget, left = budget_left(customer, period)
        offerings = list(orderable_offerings(self.request.user))
        at_cost = policy_for(customer).charged_at_cost
        rows = []
        for offering in offerings:
            rate = None
            if at_cost:
                rate = ports.charged_unit_cost(offering, customer, period)
            rows.append(
                {"offering": offering, "rate": offering.list_price if not at_cost else rate}
            )
        return super().get_context_data(
            customer=customer,
            rows=rows,
            rate_label=rate_label(customer),
            period=period,
            starts=effective_from(today),
            budget=budget,
            budget_left=left,
            **kwargs,
        )

    def perform(self, data):
        return services.submit_order(actor=self.request.user, **data)

    def get_success_url(self):
        order = self.object
        if order.status == OrderStatus.AWAITING_APPROVAL:
            messages.info(self.request, f"{order.reference} is waiting for your approver.")
        else:
            messages.success(self.request, f"{order.reference} is approved.")
        return reverse("agreements:order", args=[order.pk])


class OrderDetailView(LoginRequiredMixin, TemplateView):
    template_name = "agreements/order_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        order = get_object_or_404(
            Order.objects.visible_to(user).select_related(
                "agreement__customer", "offering__service", "requester", "decided_by"
            ),
            pk=self.kwargs["pk"],
        )
        budget = left = None
        if order.basis == OrderBasis.COST and user_may_see_cost(user):
            budget, left = budget_left(
                order.agreement.customer, effective_period(timezone.localdate())
            )
        events = order.events.select_related("actor").order_by("at", "pk")
        if not user_may_see_cost(user):
            events = events.exclude(action="not_applied")  # its reason may name a cost (R7)
        return super().get_context_data(
            order=order,
            rate_label=rate_label(order.agreement.customer),
            approvers=order.approvers.order_by("name"),
            events=events,
            budget=budget,
            budget_left=left,
            may_decide=may_decide(user, order),
            **kwargs,
        )


class OrderDecideView(LoginRequiredMixin, ServiceFormMixin, FormView):
    template_name = "agreements/order_decide.html"
    form_class = DecisionForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.order = get_object_or_404(
                Order.objects.visible_to(request.user).select_related("agreement"),
                pk=kwargs["pk"],
            )
            if customer_of(request.user) is None:
                raise PermissionDenied("Orders are decided by the customer's approvers.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(order=self.order, **kwargs)

    def perform(self, data):
        if data["decision"] == "approve":
            return services.approve_order(
                actor=self.request.user, order=self.order, reason=data["reason"]
            )
        return services.reject_order(
            actor=self.request.user, order=self.order, reason=data["reason"]
        )

    def get_success_url(self):
        messages.success(
            self.request, f"{self.order.reference} is {self.object.get_status_display().lower()}."
        )
        return reverse("agreements:order", args=[self.order.pk])
