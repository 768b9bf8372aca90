"""Pages of the improvement register, relationship health, service reviews and the dashboard.

A customer user's page of an improvement shows what its policy lets it see (R14): the whole
plan when it takes part, else the expected results and progress only. Health and the
dashboard are the provider's own assessment (staff only).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from servicebook.core.errors import DomainError
from servicebook.core.periods import is_period
from servicebook.core.roles import is_provider_staff
from servicebook.improvement import forms, parity, ranking, selectors, services
from servicebook.improvement.export import pack_context, pack_pdf
from servicebook.improvement.filters import STAFF_FILTERS, HealthFilter, ImprovementFilter
from servicebook.improvement.models import (
    Improvement,
    ImprovementEvent,
    ImprovementSource,
    ServiceReview,
)
from servicebook.improvement.retention import retention
from servicebook.improvement.tables import (
    STAFF_COLUMNS,
    HealthTable,
    ImprovementTable,
    RankedHealthRows,
)
from servicebook.parties.models import Contact, Customer
from servicebook.policy import KIND_CHOICES, POLICIES
from servicebook.web.jobs import start_job
from servicebook.web.lists import PER_PAGE, ListPage, ListRows, contains_any
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin, add_service_errors

EDITORS = services.EDITORS


def _can_edit(user) -> bool:
    return services.may_edit(user)


def _period(request, name: str = "period", default: str | None = None) -> str:
    period = request.GET.get(name) or default or selectors.default_period()
    if not is_period(period):
        raise Http404("use YYYY-MM")
    return period


# --- the register -------------------------------------------------------------------------------


class ImprovementListView(ListPage):
    title = "Improvement register"
    export_name = "improvements"
    table_class = ImprovementTable
    filterset_class = ImprovementFilter
    template_name = "improvement/list.html"

    def get_queryset(self):
        return (
            Improvement.objects.visible_to(self.request.user)
            .select_related("customer")
            .annotate(
                actions_total=Count("actions", distinct=True),
                actions_done=Count("actions", filter=Q(actions__done=True), distinct=True),
            )
        )

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if not is_provider_staff(self.request.user):
            for name in STAFF_FILTERS:
                filterset.form.fields.pop(name, None)
        return filterset

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        if not is_provider_staff(self.request.user):
            kwargs["exclude"] = (*kwargs["exclude"], *STAFF_COLUMNS)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            can_edit=_can_edit(self.request.user),
            viewer=selectors.viewer(self.request.user),
            **kwargs,
        )


class ImprovementDetailView(LoginRequiredMixin, TemplateView):
    template_name = "improvement/detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        item = get_object_or_404(selectors.improvements_for(user), pk=kwargs["pk"])
        seen = selectors.viewer(user)
        level = seen.level(item)
        context = {
            "item": item,
            "level": level,
            "progress": selectors.progress(item),
            "can_edit": _can_edit(user),
            "viewer": seen,
        }
        if level == selectors.RESULTS:
            events = ImprovementEvent.objects.filter(improvement=item).exclude(to_state="")
            context["events"] = events.only("at", "from_state", "to_state")
            return super().get_context_data(**context, **kwargs)
        mine = (
            (lambda customer_id: True)
            if seen.staff
            else (lambda customer_id: customer_id == seen.customer.pk)
        )
        concerned = selectors.concerned_customers(item)
        own_contact = Contact.objects.filter(user=user).first() if not seen.staff else None
        missing = selectors.missing_approvals(item) if item.status == "proposed" else []
        context.update(
            concerned=[c for c in concerned if mine(c.pk)],
            takes_part={c.pk: selectors.takes_part(c, item) for c in concerned},
            actions=item.actions.select_related("owner_user", "owner_contact").prefetch_related(
                "comments__author"
            ),
            participants=[
                p
                for p in item.participants.select_related("contact__customer")
                if mine(p.contact.customer_id)
            ],
            approvals=[a for a in item.approvals.select_related("contact") if mine(a.customer_id)],
            missing=[c for c in missing if mine(c.pk)],
            may_approve=item.status == "proposed"
            and (seen.staff or any(c.pk == seen.customer.pk for c in missing)),
            own_contact=own_contact,
            events=ImprovementEvent.objects.filter(improvement=item).select_related("actor"),
            invitable=[c for c in concerned if selectors.may_be_invited(c)] if seen.staff else [],
        )
        return super().get_context_data(**context, **kwargs)


class ImprovementCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS
    form_class = forms.ImprovementForm
    template_name = "improvement/action_form.html"
    extra_context = {"title": "Register an improvement"}

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user}
        initial = kwargs.setdefault("initial", {})
        if customer := self.request.GET.get("customer"):
            initial["customer"] = customer
        initial.setdefault("source", ImprovementSource.FEEDBACK)
        return kwargs

    def perform(self, data):
        return services.create_improvement(actor=self.request.user, **data)

    def get_success_url(self):
        return reverse("improvement:detail", args=[self.object.pk])


class _ItemAction(LoginRequiredMixin, ServiceFormMixin, FormView):
    """A form about one item the user can see; the service decides who may do it."""

    template_name = "improvement/action_form.html"
    title = ""
    staff_only = True
    form_class = forms.NoteForm

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.staff_only and not _can_edit(request.user):
            raise DjangoPermissionDenied("Your role does not allow this page.")
        self.item = get_object_or_404(
            Improvement.objects.visible_to(request.user).select_related("customer"),
            pk=kwargs["pk"],
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(item=self.item, title=self.get_title(), **kwargs)

    def get_title(self) -> str:
        return self.title

    def get_success_url(self):
        return reverse("improvement:detail", args=[self.item.pk])

    def concerned_contacts(self, *, taking_part: bool):
        customers = [
            c
            for c in selectors.concerned_customers(self.item)
            if not taking_part or selectors.takes_part(c, self.item)
        ]
        return Contact.objects.filter(customer__in=customers, active=True).select_related(
            "customer"
        )


class ImprovementEditView(_ItemAction):
    form_class = forms.PlanForm
    title = "Change the plan"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        item = self.item
        initial = {name: getattr(item, name) for name in services.PLAN_FIELDS}
        initial["internal_notes"] = item.internal_notes
        initial["customers"] = list(item.customers.all())
        initial["services"] = list(item.services.all())
        return initial

    def perform(self, data):
        return services.update_improvement(actor=self.request.user, improvement=self.item, **data)


STEPS = {
    "propose": (services.propose, "Propose the plan"),
    "start": (services.start, "Start the work"),
    "complete": (services.complete, "Mark the improvement done"),
}


class StepView(_ItemAction):
    def dispatch(self, request, *args, **kwargs):
        if kwargs["step"] not in STEPS:
            raise Http404("no such step")
        self.service, self.title = STEPS[kwargs["step"]]
        return super().dispatch(request, *args, **kwargs)

    def perform(self, data):
        return self.service(actor=self.request.user, improvement=self.item, **data)


class DropView(_ItemAction):
    form_class = forms.DropForm
    title = "Drop the improvement"

    def perform(self, data):
        return services.drop(actor=self.request.user, improvement=self.item, **data)


class VerifyView(_ItemAction):
    form_class = forms.VerifyForm
    title = "Verify the result"

    def perform(self, data):
        return services.verify(actor=self.request.user, improvement=self.item, **data)


class ApproveView(_ItemAction):
    form_class = forms.ApproveForm
    staff_only = False
    title = "Approve the improvement plan"

    def get_form_kwargs(self):
        staff = is_provider_staff(self.request.user)
        return {
            **super().get_form_kwargs(),
            "contacts": self.concerned_contacts(taking_part=True) if staff else None,
            "on_behalf": staff,
        }

    def perform(self, data):
        return services.approve_plan(actor=self.request.user, improvement=self.item, **data)


class ParticipantView(_ItemAction):
    form_class = forms.ParticipantForm

    def get_title(self) -> str:
        return "Add a member or invite the customer into the plan"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "contacts": self.concerned_contacts(taking_part=False)}

    def perform(self, data):
        return services.add_participant(actor=self.request.user, improvement=self.item, **data)


class ActionCreateView(_ItemAction):
    form_class = forms.ActionForm
    title = "Add an action"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "contacts": self.concerned_contacts(taking_part=True)}

    def perform(self, data):
        return services.add_action(actor=self.request.user, improvement=self.item, **data)


class _ActionView(_ItemAction):
    staff_only = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.action = get_object_or_404(
                selectors.actions_for(request.user), pk=kwargs["action"], improvement=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(action=self.action, **kwargs)


class ActionDoneView(_ActionView):
    title = "Mark the action done"

    def perform(self, data):
        return services.complete_action(actor=self.request.user, action=self.action, **data)


class CommentView(_ActionView):
    form_class = forms.CommentForm
    title = "Comment on the action"

    def perform(self, data):
        return services.comment_on_action(actor=self.request.user, action=self.action, **data)


# --- relationship health ------------------------------------------------------------------------


class HealthListView(RoleRequiredMixin, ListPage):
    """Every customer's relationship health, worst first, 50 a page: read from the period's
    kept ranking when it is current (``improvement.ranking``: sorted and counted in the
    database, only the page's rows made), ranked live from grouped queries otherwise."""

    title = "Relationship health"
    export_name = "relationship-health"
    table_class = HealthTable
    filterset_class = HealthFilter
    template_name = "improvement/health_list.html"

    def get_queryset(self):
        return Customer.objects.visible_to(self.request.user).served()

    def post(self, request):
        """*Rank now*: queue the ranking of the period for the worker (its job page follows)."""
        period = request.POST.get("period") or selectors.current_period()
        if not is_period(period):
            raise Http404("use YYYY-MM")
        title = f"Relationship health ranking {period}"
        return start_job(request, kind=ranking.RANK_HEALTH, params={"period": period}, title=title)

    def get_table_data(self):
        self.period = _period(self.request, default=selectors.current_period())
        rating = self.request.GET.get("rating")
        self.ranked = ranking.Ranked(self.object_list, self.period, rating=rating)
        return RankedHealthRows(self.ranked) if self.ranked.kept else ListRows(self.ranked.rows)

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if not (kwargs["data"] or {}).get("period"):
            data = kwargs["data"].copy() if kwargs["data"] is not None else QueryDict(mutable=True)
            data["period"] = selectors.current_period()
            kwargs["data"] = data
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            period=self.period,
            ranked=self.ranked,
            can_edit=_can_edit(self.request.user),
            propose_form=forms.ProposeForm(initial={"period": self.period}),
        )
        return context


class HealthDetailView(RoleRequiredMixin, TemplateView):
    template_name = "improvement/health_detail.html"

    def get_context_data(self, **kwargs):
        customers = Customer.objects.visible_to(self.request.user).filter(pk=kwargs["pk"])
        if not customers.exists():
            raise Http404
        period = _period(self.request, default=selectors.current_period())
        (health,) = selectors.health_of(customers, period=period)
        items = selectors.improvements_for(self.request.user).filter(
            pk__in=Improvement.objects.scope_for_customer(health.customer).values("pk")
        )
        return super().get_context_data(
            health=health,
            period=period,
            items=items.order_by("-created_at"),
            policy=health.customer.policy,
            can_edit=_can_edit(self.request.user),
            review_period=selectors.default_period(),
            **kwargs,
        )


class ProposeRetentionView(RoleRequiredMixin, FormView):
    """Run the retention rule: repeated contract breaches → draft retention items."""

    required_roles = EDITORS
    form_class = forms.ProposeForm
    template_name = "improvement/action_form.html"
    extra_context = {"title": "Propose retention improvements for repeated contract breaches"}

    def form_valid(self, form):
        try:
            created = services.propose_retention_improvements(
                actor=self.request.user, period=form.cleaned_data["period"] or None
            )
        except (DomainError, ValidationError) as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        if created:
            messages.success(
                self.request, f"{len(created)} retention improvement(s) proposed as drafts."
            )
        else:
            messages.info(self.request, "No contract breached repeatedly without an open item.")
        return HttpResponseRedirect(reverse("improvement:list") + "?driver=retention")


# --- customer-service parity (R21) --------------------------------------------------------------


class ParityView(RoleRequiredMixin, TemplateView):
    """Internal and external customers side by side, with the gaps beyond the tolerance (staff
    only: it names customers)."""

    template_name = "improvement/parity.html"

    def get_context_data(self, **kwargs):
        period = _period(self.request)
        return super().get_context_data(
            report=parity.parity_report(period),
            period=period,
            can_edit=_can_edit(self.request.user),
            **kwargs,
        )


class ProposeParityView(RoleRequiredMixin, FormView):
    """Propose an improvement item for each flagged customer-service gap of a period."""

    required_roles = EDITORS
    form_class = forms.ProposeForm
    template_name = "improvement/action_form.html"
    extra_context = {"title": "Propose improvements for customer-service gaps"}

    def form_valid(self, form):
        period = form.cleaned_data["period"] or selectors.default_period()
        created = parity.propose_parity_improvements(actor=self.request.user, period=period)
        if created:
            messages.success(self.request, f"{len(created)} improvement(s) proposed as drafts.")
        else:
            messages.info(self.request, "No flagged gap without an improvement item.")
        return HttpResponseRedirect(reverse("improvement:parity") + f"?period={period}")


# --- service reviews ----------------------------------------------------------------------------


class ReviewIndexView(LoginRequiredMixin, ServiceFormMixin, FormView):
    """Prepared and held reviews, and (staff) the form to prepare one."""

    template_name = "improvement/review_index.html"
    form_class = forms.ReviewForm

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "user": self.request.user}
        kwargs.setdefault("initial", {})["period"] = self.default_period
        if customer := self.request.GET.get("customer"):
            kwargs["initial"]["customer"] = customer
        kwargs["offered"] = self.packs.object_list
        return kwargs

    @cached_property
    def packs(self):
        """The customers whose packs the page lists: 50 a page, searched by name or code."""
        customers = contains_any(
            Customer.objects.visible_to(self.request.user).served(),
            self.request.GET.get("q", ""),
            "name",
            "code",
        ).order_by("name", "pk")
        paginator = Paginator(customers.only("pk", "name", "code", "kind"), PER_PAGE)
        return paginator.get_page(self.request.GET.get("page"))

    @cached_property
    def default_period(self) -> str:
        return selectors.default_period()  # asked once a request: it reads every document

    def post(self, request, *args, **kwargs):
        if not _can_edit(request.user):
            raise DjangoPermissionDenied("Your role does not allow this page.")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            reviews=ServiceReview.objects.visible_to(user).select_related("customer"),
            customers=self.packs,
            q=self.request.GET.get("q", ""),
            period=self.default_period,
            can_edit=_can_edit(user),
            **kwargs,
        )

    def perform(self, data):
        return services.prepare_review(actor=self.request.user, **data)

    def get_success_url(self):
        review = self.object
        return reverse("improvement:review-pack", args=[review.customer_id, review.period])


class ReviewPackView(LoginRequiredMixin, TemplateView):
    template_name = "improvement/review_pack.html"

    def get_pack(self):
        customers = Customer.objects.visible_to(self.request.user)
        customer = get_object_or_404(customers, pk=self.kwargs["pk"])
        period = self.kwargs["period"]
        if not is_period(period):
            raise Http404("use YYYY-MM")
        return selectors.review_pack(customer, period)

    def get_context_data(self, **kwargs):
        pack = self.get_pack()
        review = ServiceReview.objects.filter(
            customer=pack["customer"], period=pack["period"]
        ).first()
        context = super().get_context_data(**kwargs)
        context.update(
            pack_context(pack, user=self.request.user),
            review=review,
            can_edit=_can_edit(self.request.user),
        )
        return context


class ReviewPackPdfView(ReviewPackView):
    def get(self, request, *args, **kwargs):
        pack = self.get_pack()
        response = HttpResponse(pack_pdf(pack, user=request.user), content_type="application/pdf")
        name = f"review-{pack['customer'].code}-{pack['period']}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ReviewHeldView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = EDITORS
    form_class = forms.HeldForm
    template_name = "improvement/action_form.html"

    def dispatch(self, request, *args, **kwargs):
        reviews = ServiceReview.objects.select_related("customer")
        self.review = get_object_or_404(reviews, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Record the {self.review.period} review with {self.review.customer.name}",
            **kwargs,
        )

    def perform(self, data):
        return services.record_review_held(actor=self.request.user, review=self.review, **data)

    def get_success_url(self):
        review = self.review
        return reverse("improvement:review-pack", args=[review.customer_id, review.period])


# --- dashboard ----------------------------------------------------------------------------------


class DashboardView(RoleRequiredMixin, TemplateView):
    template_name = "improvement/dashboard.html"

    def get_context_data(self, **kwargs):
        kind = self.request.GET.get("kind") or None
        if kind and kind not in POLICIES:
            raise Http404("unknown customer kind")
        period = _period(self.request)
        return super().get_context_data(
            data=selectors.dashboard(period=period, kind=kind),
            parity=parity.parity_report(period),
            # retention figures are of the kinds whose customers count in them (R23)
            retention=retention() if not kind or POLICIES[kind].counts_in_retention else None,
            period=period,
            kind=kind or "",
            kinds=KIND_CHOICES,
            **kwargs,
        )
