"""The costs page: cost pools of a month, allocation rules and driver values, service and unit
costs (R4), and the price-floor overrides of contract lines (R6). Every form saves through the
costing service the API uses; finance and the provider admin write, other staff read."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.core.charts import chart_json
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.roles import has_role
from servicebook.finance.costing import selectors, services
from servicebook.finance.costing.forms import (
    AllocationRuleForm,
    ComputeForm,
    CostImportForm,
    CostPoolForm,
    DriverValuesForm,
    PriceOverrideForm,
)
from servicebook.finance.costing.models import (
    AllocationRule,
    CostPool,
    Driver,
    DriverValue,
    PriceFloorOverride,
)
from servicebook.finance.job_names import IMPORT_COSTS
from servicebook.finance.ledger.services import FINANCE
from servicebook.web.jobs import start_job
from servicebook.web.mixins import RoleRequiredMixin

#: where a cost pool's amount came from, in words
SOURCES = {"ui": "Entered on this page", "csv": "CSV import", "api": "API"}


class _Refused(Exception):
    """A form that did not validate: its errors, as one message."""


def _valid(form):
    if not form.is_valid():
        raise _Refused(
            "; ".join(
                f"{form.fields[name].label if name in form.fields else ''}: {message}".lstrip(": ")
                for name, errors in form.errors.items()
                for message in errors
            )
        )
    return form.cleaned_data


def _floor_problems() -> list[tuple]:
    """Contracts not yet active whose lines are priced below cost without an override."""
    found = []
    pending = Agreement.objects.filter(
        status__in=(AgreementStatus.DRAFT, AgreementStatus.NEGOTIATION)
    ).select_related("customer__provider")
    for agreement in pending:
        problems = selectors.check_price_floor(agreement)
        if problems:
            found.append((agreement, problems))
    return found


class CostsView(RoleRequiredMixin, TemplateView):
    """Cost pools of a period, allocation rules, service and unit costs, overrides."""

    template_name = "finance/costs.html"

    def get_context_data(self, **kwargs):
        period = self.request.GET.get("period") or selectors.default_cost_period() or ""
        pools = CostPool.objects.filter(period=period)
        editable = has_role(self.request.user, *services.COST_EDITORS)
        may_override = has_role(self.request.user, *FINANCE)
        service_costs = selectors.service_costs(period) if period else []
        return super().get_context_data(
            period=period,
            periods=selectors.cost_periods(),
            pools=[(p, SOURCES.get(p.source, p.source)) for p in pools],
            pool_total=sum((p.amount for p in pools), Decimal(0)),
            rules=AllocationRule.objects.prefetch_related("shares__service"),
            driver_values=DriverValue.objects.filter(period=period).select_related("service"),
            service_costs=service_costs,
            unit_costs=selectors.unit_costs(period) if period else [],
            chart=chart_json(
                [r["service"] for r in service_costs], [r["total"] for r in service_costs]
            ),
            # several forms on one page: each its own element ids, so each label names its field
            pool_form=CostPoolForm(initial={"period": period}, auto_id="pool_%s")
            if editable
            else None,
            import_form=CostImportForm(auto_id="import_%s") if editable else None,
            compute_form=ComputeForm(initial={"period": period}, auto_id="compute_%s")
            if editable
            else None,
            rule_form=AllocationRuleForm(auto_id="rule_%s") if editable else None,
            driver_form=DriverValuesForm(initial={"period": period}, auto_id="driver_%s")
            if editable
            else None,
            overrides=PriceFloorOverride.objects.select_related(
                "agreement__customer", "offering__service", "recorded_by"
            ).order_by("-recorded_at", "-pk"),
            override_form=PriceOverrideForm(
                auto_id="override_%s", search=self.request.GET.get("line_q", "")
            )
            if may_override
            else None,
            floor_problems=_floor_problems() if may_override else [],
            idle_mode=services.idle_capacity_mode(),
            **kwargs,
        )

    def post(self, request):
        if not has_role(request.user, *services.COST_EDITORS):
            raise DjangoPermissionDenied("Recording costs needs the finance role.")
        action = request.POST.get("action")
        period = request.POST.get("period", "")
        handler = getattr(self, f"_{action}", None) if action in ACTIONS else None
        if handler is None:
            messages.error(request, "Choose what to record.")
            return redirect(f"{reverse('finance:costs')}?period={period}")
        try:
            answer = handler(request)
            if answer is not None:
                return answer
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except _Refused as error:
            messages.error(request, str(error))
        except (DomainError, ValidationError) as error:
            messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
        return redirect(f"{reverse('finance:costs')}?period={period}")

    def _pool(self, request):
        data = _valid(CostPoolForm(request.POST))
        services.set_cost_pool(actor=request.user, **data)
        messages.success(request, "Cost pool recorded.")

    def _import(self, request):
        form = CostImportForm(request.POST, request.FILES)
        if not form.is_valid():
            raise _Refused("Choose a CSV file.")
        upload = form.cleaned_data["file"]
        return start_job(
            request,
            kind=IMPORT_COSTS,
            params={"filename": upload.name},
            upload=upload,
            title=f"Cost pool import · {upload.name}",
        )

    def _compute(self, request):
        result = services.compute_service_costs(
            actor=request.user, period=request.POST.get("period", "")
        )
        messages.success(
            request,
            f"Allocated {result['pools']} pools to {result['services']} cost lines, "
            f"{result['unit_costs']} unit costs.",
        )

    def _rule(self, request):
        form = AllocationRuleForm(request.POST)
        data = _valid(form)
        rule = services.set_allocation_rule(
            actor=request.user,
            category=data["category"],
            driver=data["driver"],
            shares=form.shares(),
            note=data["note"],
        )
        messages.success(request, f"Allocation rule saved: {rule}.")

    def _drivers(self, request):
        form = DriverValuesForm(request.POST)
        data = _valid(form)
        values = form.values()
        if not values:
            raise _Refused("Enter a value for at least one service.")
        count = services.set_driver_values(
            actor=request.user, period=data["period"], driver=data["driver"], values=values
        )
        label = Driver(data["driver"]).label.lower()
        messages.success(request, f"{count} {label} values recorded for {data['period']}.")

    def _override(self, request):
        if not has_role(request.user, *FINANCE):
            raise DjangoPermissionDenied("Overriding the price floor needs the finance role.")
        form = PriceOverrideForm(request.POST)
        data = _valid(form)
        line = form.chosen_line()
        services.record_price_override(
            actor=request.user,
            agreement=line.agreement,
            offering=line.offering,
            reason=data["reason"],
        )
        messages.success(
            request, f"{line.agreement.reference}: {line.offering} may be priced below cost."
        )


#: the forms of the costs page (the ``action`` of each POST)
ACTIONS = ("pool", "import", "compute", "rule", "drivers", "override")
