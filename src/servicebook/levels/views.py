"""Service level pages: overview, per-agreement attainment, tickets, a ticket's clock."""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView

from servicebook.agreements.models import Agreement, Metric
from servicebook.core.charts import chart_json
from servicebook.core.roles import has_role, is_provider_staff
from servicebook.improvement.models import Improvement, ImprovementSource
from servicebook.levels import jobs as level_jobs
from servicebook.levels import services
from servicebook.levels.clock import BusinessClock
from servicebook.levels.filters import OutageFilter, ServiceLevelFilter, TicketFilter
from servicebook.levels.forms import OutageEndForm, OutageForm
from servicebook.levels.models import Attainment, Credit, CreditStatus, Outage, Ticket
from servicebook.levels.selectors import attainment_of, targets_of, ticket_clock
from servicebook.levels.tables import OutageTable, ServiceLevelTable, TicketTable
from servicebook.policy import BreachConsequence
from servicebook.web.jobs import start_job
from servicebook.web.lists import ListPage
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin


def _visible_agreements(user):
    return Agreement.objects.visible_to(user).filter(status="active").select_related("customer")


def _can_recompute(user) -> bool:
    return is_provider_staff(user) and has_role(user, *services.RECOMPUTERS)


def _display_zone(agreement: Agreement) -> str:
    """The time zone pages show the agreement's times in: its resolution calendar's."""
    target = (
        agreement.targets.filter(metric=Metric.RESOLUTION_TIME).select_related("calendar").first()
    )
    return target.calendar.time_zone if target else "UTC"


def _sum_of(queryset):
    """The sum of ``amount`` over ``queryset`` per agreement, as a subquery on the agreement."""
    return Subquery(
        queryset.filter(agreement=OuterRef("pk"))
        .order_by()
        .values("agreement")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )


def _count_of(queryset):
    return Coalesce(
        Subquery(
            queryset.filter(agreement=OuterRef("pk"))
            .order_by()
            .values("agreement")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )


class ServiceLevelListView(ListPage):
    """Every active agreement the user may see, with its latest month and open consequences.
    Reads never write (issue 15): attainment is what the last recomputation job stored."""

    title = "Service levels"
    table_class = ServiceLevelTable
    filterset_class = ServiceLevelFilter
    template_name = "levels/list.html"

    def get_queryset(self):
        return _visible_agreements(self.request.user).annotate(
            sl_latest=Subquery(
                Attainment.objects.filter(agreement=OuterRef("pk"))
                .order_by("-period")
                .values("period")[:1]
            ),
            sl_breaches=_count_of(Attainment.objects.filter(met=False)),
            sl_credits=_sum_of(Credit.objects.all()),
            sl_pending_credits=_sum_of(Credit.objects.filter(status=CreditStatus.PENDING)),
            sl_improvements=_count_of(
                Improvement.objects.filter(source=ImprovementSource.SERVICE_LEVEL_BREACH)
            ),
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            can_import=is_provider_staff(user) and has_role(user, *services.LEVEL_EDITORS),
            recompute_queued=level_jobs.recompute_queued(),
            **kwargs,
        )


def _strictest(targets, metric):
    """The highest attainment a metric's targets ask for: the line its chart is held to."""
    asked = [t.attainment_percent for t in targets if t.metric == metric]
    return max(asked) if asked else None


def _consequences_of(agreement, consequence) -> tuple[dict, dict]:
    """The agreement's credits (a contract) or improvement items (an internal agreement), by
    (target, period)."""
    if consequence is BreachConsequence.SERVICE_CREDIT:
        credits = Credit.objects.filter(agreement=agreement).select_related("target")
        return {(c.target_id, c.period): c for c in credits}, {}
    items = Improvement.objects.filter(
        agreement=agreement, source=ImprovementSource.SERVICE_LEVEL_BREACH
    )
    return {}, {(i.target_id, i.period): i for i in items}


def _outages_of(user, agreement, targets) -> list:
    """The latest 20 outages that count for the agreement: its own and its services'."""
    services_measured = [t.service_id for t in targets if t.service_id]
    if not services_measured:
        return []
    return list(
        Outage.objects.visible_to(user)
        .filter(service__in=services_measured)
        .filter(Q(agreement=agreement) | Q(agreement__isnull=True))
        .select_related("service")
        .order_by("-start")[:20]
    )


class AgreementLevelsView(LoginRequiredMixin, DetailView):
    """One agreement's service levels: trend, targets by month, breaches and consequences."""

    template_name = "levels/agreement.html"
    context_object_name = "agreement"

    def get_queryset(self):
        return Agreement.objects.visible_to(self.request.user).select_related("customer")

    def get_context_data(self, **kwargs):
        agreement = self.object  # what the last recomputation stored: a GET never writes
        policy = agreement.policy
        rows = list(attainment_of(agreement))
        periods = sorted({row.period for row in rows})
        targets = targets_of(agreement)
        grid = OrderedDict((t.pk, {"target": t, "cells": {}}) for t in targets)
        resolution = defaultdict(lambda: [0, 0])
        availability = {}
        for row in rows:
            if row.target_id in grid:
                grid[row.target_id]["cells"][row.period] = row
            if row.metric == Metric.RESOLUTION_TIME:
                resolution[row.period][0] += row.tickets_total - row.tickets_breached
                resolution[row.period][1] += row.tickets_total
            elif row.metric == Metric.AVAILABILITY and row.measured_percent is not None:
                availability[row.period] = min(
                    availability.get(row.period, row.measured_percent), row.measured_percent
                )
        res_periods = [p for p in periods if resolution[p][1]]
        res_values = [str(round(100 * resolution[p][0] / resolution[p][1], 2)) for p in res_periods]
        avail_periods = [p for p in periods if p in availability]
        breaches = [row for row in rows if row.met is False]
        consequence = policy.breach_consequence
        credits, improvements = _consequences_of(agreement, consequence)
        numbers = dict(
            Ticket.objects.filter(
                pk__in={pk for row in breaches for pk in row.breaching_tickets[:5]}
            ).values_list("pk", "number")
        )
        breach_rows = [
            {
                "row": row,
                "tickets": [(pk, numbers.get(pk)) for pk in row.breaching_tickets[:5]],
                "credit": credits.get((row.target_id, row.period)),
                "improvement": improvements.get((row.target_id, row.period)),
            }
            for row in reversed(breaches)
        ]
        state = getattr(agreement, "levels_state", None)
        return super().get_context_data(
            policy=policy,
            consequence=consequence,
            periods=periods,
            grid=list(grid.values()),
            breach_rows=breach_rows,
            credits=sorted(credits.values(), key=lambda c: (c.period, c.target_id), reverse=True),
            improvements=sorted(improvements.values(), key=lambda i: i.period, reverse=True),
            resolution_chart=chart_json(
                res_periods,
                res_values,
                "Resolved within target (%)",
                target=_strictest(targets, Metric.RESOLUTION_TIME),
                percent=True,
            ),
            availability_chart=chart_json(
                avail_periods,
                [str(availability[p]) for p in avail_periods],
                "Availability (%)",
                target=_strictest(targets, Metric.AVAILABILITY),
                percent=True,
            ),
            outages=_outages_of(self.request.user, agreement, targets),
            tickets_count=agreement.tickets.count(),
            computed=state,
            recompute_queued=level_jobs.recompute_queued(),
            stale=level_jobs.stale(agreement),
            can_recompute=_can_recompute(self.request.user),
            zone=_display_zone(agreement),
            **kwargs,
        )


class RecomputeView(LoginRequiredMixin, View):
    """Recompute an agreement's attainment (provider staff): a background job."""

    def post(self, request, pk):
        agreement = get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)
        return start_job(
            request,
            kind=level_jobs.RECOMPUTE,
            params={"agreement": agreement.pk},
            title=f"Attainment recomputation · {agreement.reference}",
        )


class TicketListView(ListPage):
    """An agreement's tickets, optionally only those breaching one month's target."""

    table_class = TicketTable
    filterset_class = TicketFilter
    template_name = "levels/tickets.html"

    def get_queryset(self):
        user = self.request.user
        self.agreement = get_object_or_404(Agreement.objects.visible_to(user), pk=self.kwargs["pk"])
        self.title = f"Tickets · {self.agreement.reference}"
        tickets = Ticket.objects.visible_to(user).filter(agreement=self.agreement)
        self.breach = None
        if attainment_id := self.request.GET.get("attainment"):
            if not attainment_id.isdigit():
                raise Http404
            self.breach = get_object_or_404(
                Attainment.objects.visible_to(user).filter(agreement=self.agreement),
                pk=attainment_id,
            )
            tickets = tickets.filter(pk__in=self.breach.breaching_tickets)
        return tickets

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            agreement=self.agreement,
            breach=self.breach,
            zone=_display_zone(self.agreement),
            **kwargs,
        )


class TicketClockView(LoginRequiredMixin, DetailView):
    """A ticket's clock timeline: working time, pauses and the deadline."""

    template_name = "levels/ticket.html"
    context_object_name = "ticket"

    def get_queryset(self):
        return Ticket.objects.visible_to(self.request.user).select_related("agreement__customer")

    def get_context_data(self, **kwargs):
        ticket = self.object
        clock = ticket_clock(ticket)
        zone = ZoneInfo(_display_zone(ticket.agreement))
        segments = clock["segments"]
        start = int(ticket.opened_at.timestamp())
        end = max([int(s["end"].timestamp()) for s in segments] or [start])
        for c in clock["clocks"]:
            end = max(end, int(c["deadline"].timestamp()))
        span = max(end - start, 1)

        def place(lo: int, hi: int) -> dict:
            lo, hi = max(lo, start), min(hi, end)
            return {
                "left": round((lo - start) * 100 / span, 3),
                "width": round(max(hi - lo, 0) * 100 / span, 3),
            }

        work = []
        if clock["calendar"] is not None:
            hours = BusinessClock.build(clock["calendar"], start, end)
            for lo, hi in zip(hours.starts.tolist(), hours.ends.tolist(), strict=True):
                if hi > start and lo < end:
                    work.append(place(lo, hi))
        pauses = [
            {**s, **place(int(s["start"].timestamp()), int(s["end"].timestamp()))}
            for s in segments
            if s["paused"]
        ]
        markers = [
            {
                **c,
                "left": round((int(c["deadline"].timestamp()) - start) * 100 / span, 3),
                "local_deadline": c["deadline"].astimezone(zone),
            }
            for c in clock["clocks"]
        ]
        for s in segments:
            s["local_start"] = s["start"].astimezone(zone)
            s["local_end"] = s["end"].astimezone(zone)
        return super().get_context_data(
            clock=clock,
            work=work,
            pauses=pauses,
            markers=markers,
            zone=str(zone),
            opened_local=ticket.opened_at.astimezone(zone),
            resolved_local=ticket.resolved_at.astimezone(zone) if ticket.resolved_at else None,
            **kwargs,
        )


def _can_record(user) -> bool:
    return is_provider_staff(user) and has_role(user, *services.LEVEL_EDITORS)


class OutageListView(ListPage):
    """Outages and planned maintenance the user may see, per agreement or service."""

    title = "Outages and planned maintenance"
    table_class = OutageTable
    filterset_class = OutageFilter
    template_name = "levels/outages.html"

    def get_queryset(self):
        return Outage.objects.visible_to(self.request.user).select_related("service", "agreement")

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        table.can_end = _can_record(self.request.user)
        return table

    def get_context_data(self, **kwargs):
        user = self.request.user
        agreement = None
        wanted = self.request.GET.get("agreement", "")
        if wanted.isdigit() and len(wanted) < 19:
            agreement = Agreement.objects.visible_to(user).filter(pk=wanted).first()
        return super().get_context_data(
            agreement=agreement,
            can_record=_can_record(user),
            **kwargs,
        )


class OutageCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    """Record an outage or planned maintenance; availability is recomputed by a job."""

    required_roles = services.LEVEL_EDITORS
    form_class = OutageForm
    template_name = "levels/outage_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        wanted = self.request.GET.get("agreement", "")
        if wanted.isdigit() and len(wanted) < 19:
            return {"agreement": wanted}
        return {}

    def perform(self, data):
        return services.record_outage(actor=self.request.user, **data)

    def get_success_url(self):
        messages.success(
            self.request,
            f"{self.object} recorded; availability is recomputed in the background.",
        )
        url = reverse("levels:outages")
        if self.object.agreement_id:
            url += f"?agreement={self.object.agreement_id}"
        return url


class OutageEndView(RoleRequiredMixin, ServiceFormMixin, FormView):
    """End an ongoing outage (``services.end_outage``, as the API's ``end`` action)."""

    required_roles = services.LEVEL_EDITORS
    form_class = OutageEndForm
    template_name = "levels/outage_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.outage = get_object_or_404(
            Outage.objects.visible_to(request.user).select_related("service"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(outage=self.outage, **kwargs)

    def perform(self, data):
        return services.end_outage(actor=self.request.user, outage=self.outage, end=data["end"])

    def get_success_url(self):
        messages.success(self.request, f"{self.object} ended.")
        return reverse("levels:outages")
