"""Strategy pages: objectives and desired outcomes with their measures, one page per objective
(services, attainment, cost for staff, demands, improvements, the trend against the target),
and the forms that add measures and readings."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import FormView, TemplateView

from servicebook.agreements.models import Outcome
from servicebook.core.errors import DomainError
from servicebook.core.roles import has_role, is_provider_staff
from servicebook.demand.models import DemandObjective, DemandRequest
from servicebook.improvement.models import Improvement
from servicebook.strategy import selectors, services
from servicebook.strategy.forms import MeasureForm, ReadingForm, ReadingImportForm
from servicebook.strategy.models import Measure
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin, add_service_errors


def _may_edit(user) -> bool:
    return is_provider_staff(user) and has_role(user, *services.MEASURE_EDITORS)


class ObjectiveListView(LoginRequiredMixin, TemplateView):
    """The organization's objectives (internal customers: their own) and external customers'
    desired outcomes (external customers: their own), each with its measures."""

    template_name = "strategy/list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        objectives = list(selectors.objectives_for(user))
        measures = selectors.measure_views(selectors.measures_for(user))
        by_objective: dict = {}
        by_outcome: dict = {}
        for view in measures:
            if view.measure.objective_id:
                by_objective.setdefault(view.measure.objective_id, []).append(view)
            else:
                by_outcome.setdefault(view.measure.outcome_id, []).append(view)
        outcomes = Outcome.objects.visible_to(user).select_related("agreement__customer")
        return super().get_context_data(
            objectives=[(o, by_objective.get(o.pk, [])) for o in objectives],
            outcomes=[(o, by_outcome.get(o.pk, [])) for o in outcomes],
            may_edit=_may_edit(user),
            is_staff=is_provider_staff(user),
            **kwargs,
        )


class ObjectiveDetailView(LoginRequiredMixin, TemplateView):
    template_name = "strategy/detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        objective = get_object_or_404(selectors.objectives_for(user), pk=self.kwargs["pk"])
        staff = is_provider_staff(user)
        rows, months = selectors.service_rows(objective, with_cost=staff)
        demands = DemandRequest.objects.visible_to(user).filter(objectives=objective)
        links = {
            link.demand_id: link.how
            for link in DemandObjective.objects.filter(objective=objective, demand__in=demands)
        }
        return super().get_context_data(
            objective=objective,
            measures=selectors.measure_views(objective.measures.all()),
            service_rows=rows,
            months=months,
            show_cost=staff,
            is_staff=staff,
            demands=[(d, links.get(d.pk, "")) for d in demands.select_related("customer")],
            improvements=Improvement.objects.visible_to(user)
            .filter(objective=objective)
            .select_related("customer"),
            may_edit=_may_edit(user),
            **kwargs,
        )


class MeasureCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    """A measure of an objective (``/strategy/<objective>/measure/``) or of a desired outcome
    (``?outcome=<id>``)."""

    required_roles = services.MEASURE_EDITORS
    form_class = MeasureForm
    template_name = "strategy/form.html"

    def get_subject(self):
        from servicebook.parties.models import Objective

        return get_object_or_404(Objective, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        subject = self.get_subject()
        return super().get_context_data(title=f"Add a measure of “{subject}”", **kwargs)

    def perform(self, data):
        return services.create_measure(
            actor=self.request.user, objective=self.get_subject(), **data
        )

    def get_success_url(self):
        return reverse("strategy:detail", args=[self.kwargs["pk"]])


class OutcomeMeasureCreateView(MeasureCreateView):
    def get_subject(self):
        return get_object_or_404(Outcome, pk=self.kwargs["pk"])

    def perform(self, data):
        return services.create_measure(actor=self.request.user, outcome=self.get_subject(), **data)

    def get_success_url(self):
        return reverse("strategy:list")


class ReadingCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = services.MEASURE_EDITORS
    form_class = ReadingForm
    template_name = "strategy/form.html"

    def dispatch(self, request, *args, **kwargs):
        self.measure = get_object_or_404(Measure, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        m = self.measure
        return super().get_context_data(
            title=f"Record a reading of “{m.indicator}”",
            intro=f"{m.get_frequency_display()} · target {m.target.normalize():f} {m.unit} · "
            f"{m.get_direction_display().lower()}",
            **kwargs,
        )

    def perform(self, data):
        return services.record_reading(actor=self.request.user, measure=self.measure, **data)

    def get_success_url(self):
        if self.measure.objective_id:
            return reverse("strategy:detail", args=[self.measure.objective_id])
        return reverse("strategy:list")


class ReadingImportView(RoleRequiredMixin, FormView):
    """Readings from a CSV file: what was imported, and each rejected row with its reason."""

    required_roles = services.MEASURE_EDITORS
    form_class = ReadingImportForm
    template_name = "strategy/import.html"

    def form_valid(self, form):
        raw = form.cleaned_data["file"].read()
        try:
            result = services.import_readings(
                actor=self.request.user, text=raw.decode("utf-8-sig", errors="replace")
            )
        except DomainError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=form, result=result))
