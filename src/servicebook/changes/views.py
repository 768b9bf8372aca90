"""Change pages: list, detail (each customer sees its own part), forms, schedule, iCal feed."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from servicebook.changes import selectors, services
from servicebook.changes.filters import ChangeFilter
from servicebook.changes.forms import (
    AssessForm,
    ChangeForm,
    ContactForm,
    DecisionForm,
    NoteForm,
    PriceImpactForm,
    TaskForm,
    TrainingForm,
    VerdictForm,
    WindowForm,
)
from servicebook.changes.models import (
    ChangeEvent,
    ChangeRequest,
    ChangeStatus,
    CustomerImpact,
    ScheduleFeed,
    TrainingRecord,
)
from servicebook.changes.tables import ChangeTable
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.params import object_id
from servicebook.core.roles import has_role, is_provider_staff
from servicebook.core.tenancy import customer_of
from servicebook.parties.models import Customer
from servicebook.policy import policy_for
from servicebook.web.forms import some_of
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin

MANAGERS = services.CHANGE_MANAGERS


def _is_manager(user) -> bool:
    return is_provider_staff(user) and has_role(user, *MANAGERS)


class ChangeListView(ListPage):
    title = "Requests for change"
    export_name = "changes"
    context_object_name = "changes"
    table_class = ChangeTable
    filterset_class = ChangeFilter
    template_name = "changes/change_list.html"

    def get_queryset(self):
        return ChangeRequest.objects.visible_to(self.request.user).prefetch_related("services")

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_manage=_is_manager(self.request.user), **kwargs)


class ChangeDetailView(LoginRequiredMixin, DetailView):
    template_name = "changes/change_detail.html"
    context_object_name = "change"

    def get_queryset(self):
        return selectors.changes_for(self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        change = self.object
        manager = _is_manager(user)
        own = customer_of(user)
        impacts = selectors.impacts_for(user, change)
        my_impact = next((i for i in impacts if own and i.customer_id == own.pk), None)
        policy = policy_for(own) if own else None
        decidable = change.status == ChangeStatus.AWAITING_APPROVAL or (
            change.change_type == "emergency"
            and change.status in (ChangeStatus.SCHEDULED, ChangeStatus.IMPLEMENTED)
        )
        trainings = TrainingRecord.objects.visible_to(user).filter(change=change)
        return super().get_context_data(
            impacts=impacts,
            my_impact=my_impact,
            my_policy=policy,
            approvals=selectors.approvals_for(user, change),
            tasks=selectors.tasks_for(user, change),
            trainings=trainings.select_related("contact__customer"),
            events=ChangeEvent.objects.visible_to(user)
            .filter(change=change)
            .select_related("actor"),
            missing=selectors.missing_for(user, change),
            blockers=selectors.blockers_for(user, change),
            can_manage=manager,
            decidable=decidable,
            may_add_tasks=manager or bool(my_impact and policy.adds_change_tasks),
            may_set_window=services.may_set_window(user, change),
            it_decided=any(a.customer_id is None for a in change.approvals.all()),
            **kwargs,
        )


class ChangeCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = MANAGERS
    form_class = ChangeForm
    template_name = "changes/action_form.html"
    extra_context = {"title": "New request for change"}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, data):
        return services.create_change(actor=self.request.user, **data)

    def get_success_url(self):
        return reverse("changes:detail", args=[self.object.pk])


class _ChangeAction(LoginRequiredMixin, ServiceFormMixin, FormView):
    """A form about one change the user can see; the service decides who may do it."""

    template_name = "changes/action_form.html"
    title = ""
    staff_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.staff_only and not _is_manager(request.user):
            raise DjangoPermissionDenied("Your role does not allow this page.")
        self.change = get_object_or_404(
            ChangeRequest.objects.visible_to(request.user), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(change=self.change, title=self.title, **kwargs)

    def get_success_url(self):
        return reverse("changes:detail", args=[self.change.pk])


STEPS = {
    "start-assessment": (services.start_assessment, "Start the assessment"),
    "submit": (services.submit_for_approval, "Submit for approval"),
    "schedule": (services.schedule_change, "Schedule"),
    "implement": (services.implement_change, "Mark implemented"),
    "review": (services.review_change, "Review"),
}


class StepView(_ChangeAction):
    form_class = NoteForm
    staff_only = True

    def dispatch(self, request, *args, **kwargs):
        if kwargs["step"] not in STEPS:
            raise Http404("no such step")
        self.service, self.title = STEPS[kwargs["step"]]
        return super().dispatch(request, *args, **kwargs)

    def perform(self, data):
        return self.service(actor=self.request.user, change=self.change, **data)


class AssessView(_ChangeAction):
    form_class = AssessForm
    staff_only = True
    title = "Assess the change"

    def get_initial(self):
        return {
            "risk": self.change.risk,
            "service_impact": self.change.service_impact,
            "cost_impact": self.change.cost_impact,
        }

    def perform(self, data):
        return services.assess_change(actor=self.request.user, change=self.change, **data)


class ITDecisionView(_ChangeAction):
    form_class = VerdictForm
    staff_only = True
    title = "IT change manager's decision"

    def perform(self, data):
        return services.record_it_decision(actor=self.request.user, change=self.change, **data)


class WindowView(_ChangeAction):
    form_class = WindowForm
    title = "Change window and deployment procedure"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            change = get_object_or_404(
                ChangeRequest.objects.visible_to(request.user), pk=kwargs["pk"]
            )
            refusal = services.window_refusal(request.user, change)
            if refusal is not None:  # never offer a form the service would refuse
                raise DjangoPermissionDenied(refusal.message)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {
            "planned_start": self.change.planned_start,
            "planned_end": self.change.planned_end,
            "deployment_procedure": self.change.deployment_procedure,
        }

    def perform(self, data):
        return services.set_schedule(actor=self.request.user, change=self.change, **data)


class TaskCreateView(_ChangeAction):
    form_class = TaskForm
    title = "Add a customer task"

    def get_form_kwargs(self):
        customers = Customer.objects.visible_to(self.request.user).filter(
            change_impacts__change=self.change
        )
        return {**super().get_form_kwargs(), "customers": customers}

    def perform(self, data):
        return services.add_customer_task(actor=self.request.user, change=self.change, **data)


class TrainingCreateView(_ChangeAction):
    form_class = TrainingForm
    staff_only = True
    title = "Record a contact's training"

    def get_form_kwargs(self):
        customers = Customer.objects.filter(change_impacts__change=self.change)
        return {**super().get_form_kwargs(), "customers": customers}

    def perform(self, data):
        return services.record_training(actor=self.request.user, change=self.change, **data)


class _ImpactAction(_ChangeAction):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.impact = get_object_or_404(
                CustomerImpact.objects.visible_to(request.user).select_related("customer"),
                pk=kwargs["impact"],
                change_id=kwargs["pk"],
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "customer": self.impact.customer,
            "on_behalf": is_provider_staff(self.request.user),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(impact=self.impact, **kwargs)


class ImpactDecisionView(_ImpactAction):
    form_class = DecisionForm

    @property
    def title(self):
        return f"Decision of {self.impact.customer.name}"

    def perform(self, data):
        return services.record_customer_decision(
            actor=self.request.user, impact=self.impact, **data
        )


class AcceptPriceView(_ImpactAction):
    form_class = ContactForm

    @property
    def title(self):
        return f"Accept the new price for {self.impact.customer.name}"

    def perform(self, data):
        return services.accept_price_impact(actor=self.request.user, impact=self.impact, **data)


class PriceImpactView(_ImpactAction):
    form_class = PriceImpactForm
    staff_only = True

    @property
    def title(self):
        return f"Price impact for {self.impact.customer.name}"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("customer"), kwargs.pop("on_behalf")
        return kwargs

    def perform(self, data):
        return services.set_price_impact(actor=self.request.user, impact=self.impact, **data)


class ScheduleView(LoginRequiredMixin, TemplateView):
    """A customer's change schedule; provider staff pick the customer."""

    template_name = "changes/schedule.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        customers = Customer.objects.visible_to(user)
        own = customer_of(user)
        customer = own
        if own is None:
            wanted = self.request.GET.get("customer")
            customer = customers.filter(pk=object_id(wanted) or 0).first() if wanted else None
            if wanted and customer is None:
                raise Http404("no such customer")
        feed = ScheduleFeed.objects.filter(customer=customer).first() if customer else None
        search = self.request.GET.get("q", "").strip()[:100]
        offered, more = (
            some_of(customers, search, ("name", "code"), customer.pk if customer else None)
            if own is None
            else (None, False)
        )
        return super().get_context_data(
            customers=offered,
            search=search,
            more=more,
            customer=customer,
            changes=selectors.schedule_for(customer) if customer else [],
            feed_url=self.request.build_absolute_uri(reverse("changes:feed", args=[feed.token]))
            if feed
            else None,
            may_rotate=customer is not None and (own is not None or _is_manager(user)),
            **kwargs,
        )


class FeedRotateView(LoginRequiredMixin, View):
    def post(self, request, customer):
        customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=customer)
        try:
            services.rotate_feed(actor=request.user, customer=customer)
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        return HttpResponseRedirect(f"{reverse('changes:schedule')}?customer={customer.pk}")


def feed(request, token: str):
    """The iCalendar feed: the secret token is the credential (no sign-in, for calendar apps)."""
    found = ScheduleFeed.objects.select_related("customer").filter(token=token).first()
    if found is None:
        raise Http404("unknown feed")
    body = selectors.feed_text(
        found.customer, now=timezone.now(), base_url=request.build_absolute_uri("/").rstrip("/")
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{found.customer.code}-changes.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
