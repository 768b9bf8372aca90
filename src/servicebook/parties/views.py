"""Customer pages: list (staff), detail (staff and the customer's own users), forms."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from servicebook.agreements.models import Agreement, AgreementLine
from servicebook.core import params
from servicebook.core.errors import DomainError
from servicebook.core.periods import period_of
from servicebook.core.roles import Role, has_role, is_provider_staff
from servicebook.core.tenancy import customer_of
from servicebook.parties import provider as provider_settings
from servicebook.parties import selectors, services
from servicebook.parties.filters import ContactFilter, CustomerFilter
from servicebook.parties.forms import (
    AnswerForm,
    CheckForm,
    CommitmentForm,
    ContactForm,
    CustomerForm,
    CustomerStatusForm,
    DifficultyForm,
    FeedbackForm,
    ProviderSettingsForm,
    WaiverForm,
)
from servicebook.parties.models import Contact, Customer, Feedback, Provider
from servicebook.parties.tables import ContactTable, CustomerTable
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


class CustomerListView(ListPage):
    """All customers for provider staff (filters, sorting, export); customer users go to their
    own."""

    title = "Customers"
    table_class = CustomerTable
    filterset_class = CustomerFilter
    template_name = "parties/customer_list.html"

    def get(self, request, *args, **kwargs):
        own = customer_of(request.user)
        if own is not None:
            return redirect("parties:detail", pk=own.pk)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return Customer.objects.visible_to(self.request.user).select_related(
            "provider", "relationship_owner"
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            can_edit=is_provider_staff(user) and has_role(user, *EDITORS), **kwargs
        )


class MyCustomersView(CustomerListView):
    """The customers whose relationship the signed-in staff member owns (``?owner=me`` unless
    another owner is chosen on the page)."""

    title = "My customers"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        data = (kwargs.get("data") or self.request.GET).copy()
        data.setdefault("owner", "me")
        return {**kwargs, "data": data}


class ContactListView(ListPage):
    """The contacts the user may see (a customer user: its own organization's)."""

    title = "Contacts"
    table_class = ContactTable
    filterset_class = ContactFilter

    def get_queryset(self):
        return Contact.objects.visible_to(self.request.user).select_related("customer")


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
            .select_related("provider", "relationship_owner")
            .prefetch_related(
                "contacts",
                Prefetch("agreements", queryset=agreements),
                "events__actor",
                "due_diligences__checks",
                "commitments__breaches",
                "objectives",
                "feedback__service",
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
            due_diligence=(due_diligence := services.latest_due_diligence(customer)),
            due_diligence_expires=due_diligence.expires_on() if due_diligence else None,
            due_diligence_problem=services.due_diligence_problem(customer),
            feedback_summary=feedback_summary(customer),
            is_own=customer_of(user) == customer,
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


def feedback_summary(customer):
    """Average satisfaction per service."""
    return (
        customer.feedback.filter(topic="satisfaction")
        .values("service__name")
        .annotate(average=Avg("score"), answers=Count("pk"))
        .order_by("service__name")
    )


class _CustomerPostView(RoleRequiredMixin, View):
    """A one-click workflow step on a customer (POST), reported as a message."""

    required_roles = EDITORS

    def post(self, request, pk):
        customer = get_object_or_404(Customer, pk=pk)
        try:
            message = self.perform(customer)
        except DomainError as error:
            messages.error(request, error.message)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, message)
        return redirect("parties:detail", pk=pk)


class StartDueDiligenceView(_CustomerPostView):
    def perform(self, customer):
        reason = self.request.POST.get("reason", "")
        services.start_due_diligence(actor=self.request.user, customer=customer, reason=reason)
        return "Due diligence started: record each check with its evidence."


class ConcludeDueDiligenceView(_CustomerPostView):
    def perform(self, customer):
        due_diligence = services.latest_due_diligence(customer)
        if due_diligence is None:
            raise DomainError("no due diligence to conclude")
        due_diligence = services.conclude_due_diligence(
            actor=self.request.user, due_diligence=due_diligence
        )
        return f"Due diligence {due_diligence.get_status_display().lower()}."


class RecordCheckView(_CustomerActionView):
    form_class = CheckForm
    template_name = "parties/action_form.html"
    title = "Record a due diligence check"

    def perform(self, data):
        due_diligence = services.latest_due_diligence(self.customer)
        check = due_diligence and due_diligence.checks.filter(check_type=data["check_type"]).first()
        if check is None:
            raise DomainError("start a due diligence first; this check is not part of it")
        return services.record_check(
            actor=self.request.user, check=check, outcome=data["outcome"], evidence=data["evidence"]
        )


class WaiveDueDiligenceView(_CustomerActionView):
    form_class = WaiverForm
    template_name = "parties/action_form.html"
    title = "Record that due diligence was not carried out"

    def perform(self, data):
        return services.waive_due_diligence(actor=self.request.user, customer=self.customer, **data)


class CommitmentCreateView(_CustomerActionView):
    form_class = CommitmentForm
    template_name = "parties/action_form.html"
    title = "Record a commitment"

    def perform(self, data):
        return services.add_commitment(actor=self.request.user, customer=self.customer, **data)


class FeedbackDetailView(LoginRequiredMixin, DetailView):
    """One piece of feedback and what became of it (R15): the improvement item or design
    revision it proposed, with its status; a complaint's first answer (R21)."""

    template_name = "parties/feedback_detail.html"
    context_object_name = "feedback"

    def get_queryset(self):
        return (
            Feedback.objects.visible_to(self.request.user)
            .select_related("customer", "service", "respondent")
            .prefetch_related(*selectors.FOLLOW_UP_PREFETCH)
        )

    def get_context_data(self, **kwargs):
        user, feedback = self.request.user, self.object
        may_answer = (
            is_provider_staff(user)
            and has_role(user, *EDITORS)
            and feedback.topic == Feedback.Topic.COMPLAINT
            and feedback.answered_at is None
        )
        return super().get_context_data(
            follow_ups=selectors.feedback_follow_ups(feedback),
            answer_form=AnswerForm() if may_answer else None,
            **kwargs,
        )


class AnswerComplaintView(RoleRequiredMixin, ServiceFormMixin, FormView):
    """The provider's first answer to a complaint."""

    required_roles = EDITORS
    form_class = AnswerForm
    template_name = "parties/action_form.html"
    title = "Answer the complaint"

    def dispatch(self, request, *args, **kwargs):
        self.feedback = get_object_or_404(
            Feedback.objects.visible_to(request.user).select_related("customer"), pk=kwargs["pk"]
        )
        self.customer = self.feedback.customer
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, **kwargs)

    def perform(self, data):
        from servicebook.parties.complaints import answer_complaint

        return answer_complaint(actor=self.request.user, complaint=self.feedback, **data)

    def get_success_url(self):
        messages.success(self.request, "The answer was recorded.")
        return reverse("parties:feedback-detail", args=[self.feedback.pk])


class FeedbackCreateView(LoginRequiredMixin, ServiceFormMixin, FormView):
    """The satisfaction survey a customer user answers from its portal."""

    form_class = FeedbackForm
    template_name = "parties/action_form.html"
    title = "How satisfied are you with our service?"

    def dispatch(self, request, *args, **kwargs):
        self.customer = get_object_or_404(
            Customer.objects.visible_to(request.user), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        """This month, or the survey My work links to (``?service=&period=``)."""
        asked = self.request.GET
        initial = {"period": params.period(asked.get("period"), period_of(timezone.localdate()))}
        service = params.object_id(asked.get("service"))
        if service is not None:
            initial["service"] = service
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, **kwargs)

    def perform(self, data):
        return services.submit_feedback(actor=self.request.user, customer=self.customer, **data)

    def get_success_url(self):
        messages.success(self.request, "Thank you: your answer was recorded.")
        return reverse("parties:detail", args=[self.customer.pk])


#: rows a page of the funding report shows
FUNDING_ROWS = 50


class FundingReportView(RoleRequiredMixin, TemplateView):
    """Internal customers whose consumption at cost exceeds their funding."""

    template_name = "parties/funding_report.html"

    def get_context_data(self, **kwargs):
        period = params.period(self.request.GET.get("period"), period_of(timezone.localdate()))
        rows = selectors.funding_report(self.request.user, period=period)
        # a page of rows (issue 14: 5,000 internal customers on one page), those over first
        page = Paginator(rows, FUNDING_ROWS).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            rows=page.object_list,
            page=page,
            over=sum(1 for row in rows if row.over),
            period=period,
            **kwargs,
        )


class DifficultyView(_CustomerActionView):
    """Flag a relationship in difficulty, with the reason, or clear the flag."""

    form_class = DifficultyForm
    template_name = "parties/action_form.html"

    @property
    def title(self):
        if self.customer.in_difficulty:
            return "Clear the in-difficulty flag"
        return "Flag the relationship in difficulty"

    def perform(self, data):
        if self.customer.in_difficulty:
            return services.clear_in_difficulty(
                actor=self.request.user, customer=self.customer, note=data["reason"]
            )
        return services.flag_in_difficulty(
            actor=self.request.user, customer=self.customer, reason=data["reason"]
        )


class ProviderSettingsView(RoleRequiredMixin, ServiceFormMixin, FormView):
    """The provider's policy settings and their history: every staff member reads them (margins:
    finance and the admin only), the provider admin changes them."""

    template_name = "parties/provider_settings.html"
    form_class = ProviderSettingsForm

    def dispatch(self, request, *args, **kwargs):
        self.provider = Provider.objects.order_by("pk").first()
        if self.provider is None:
            raise Http404("No provider is set up yet.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def can_edit(self) -> bool:
        user = self.request.user
        return is_provider_staff(user) and has_role(user, *provider_settings.SETTING_EDITORS)

    def post(self, request, *args, **kwargs):
        if not self.can_edit:
            raise PermissionDenied("Only the provider admin changes the provider's settings.")
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "instance": self.provider,
            "currency_locked": provider_settings.base_currency_lock(self.provider),
        }

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        if not self.can_edit:
            context.pop("form", None)
        return {
            **context,
            "provider": self.provider,
            "can_edit": self.can_edit,
            "settings_rows": provider_settings.current_settings(self.provider, user),
            "changes": provider_settings.change_rows(self.provider, user),
        }

    def perform(self, data):
        provider, rows = provider_settings.update_provider_settings(
            actor=self.request.user, provider=self.provider, **data
        )
        if not rows:
            messages.info(self.request, "Nothing changed.")
        else:
            names = ", ".join(provider_settings.LABELS[row.field].lower() for row in rows)
            messages.success(self.request, f"Saved: {names}.")
            for row in rows:
                if row.note:
                    messages.warning(self.request, row.note)
        return provider

    def get_success_url(self):
        return reverse("parties:provider-settings")
