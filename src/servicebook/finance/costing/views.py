"""The costs page: cost pools of a month, allocation rules, service and unit costs (R4)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from servicebook.core.charts import chart_json
from servicebook.core.errors import DomainError
from servicebook.core.roles import has_role
from servicebook.finance.costing import selectors, services
from servicebook.finance.costing.forms import ComputeForm, CostImportForm, CostPoolForm
from servicebook.finance.costing.models import AllocationRule, CostPool
from servicebook.finance.job_names import IMPORT_COSTS
from servicebook.web.jobs import start_job
from servicebook.web.mixins import RoleRequiredMixin


class CostsView(RoleRequiredMixin, TemplateView):
    """Cost pools of a period, allocation rules, service and unit costs (R4)."""

    template_name = "finance/costs.html"

    def get_context_data(self, **kwargs):
        period = self.request.GET.get("period") or selectors.default_cost_period() or ""
        pools = CostPool.objects.filter(period=period)
        editable = has_role(self.request.user, *services.COST_EDITORS)
        service_costs = selectors.service_costs(period) if period else []
        return super().get_context_data(
            period=period,
            periods=selectors.cost_periods(),
            pools=pools,
            pool_total=sum((p.amount for p in pools), Decimal(0)),
            rules=AllocationRule.objects.prefetch_related("shares__service"),
            service_costs=service_costs,
            unit_costs=selectors.unit_costs(period) if period else [],
            chart=chart_json(
                [r["service"] for r in service_costs], [r["total"] for r in service_costs]
            ),
            pool_form=CostPoolForm(initial={"period": period}) if editable else None,
            import_form=CostImportForm() if editable else None,
            compute_form=ComputeForm(initial={"period": period}) if editable else None,
            idle_mode=services.idle_capacity_mode(),
            import_result=kwargs.pop("import_result", None),
            **kwargs,
        )

    def post(self, request):
        if not has_role(request.user, *services.COST_EDITORS):
            raise DjangoPermissionDenied("Recording costs needs the finance role.")
        action = request.POST.get("action")
        period = request.POST.get("period", "")
        import_result = None
        try:
            if action == "pool":
                form = CostPoolForm(request.POST)
                if not form.is_valid():
                    raise DomainError("; ".join(m for ms in form.errors.values() for m in ms))
                services.set_cost_pool(actor=request.user, **form.cleaned_data)
                messages.success(request, "Cost pool recorded.")
            elif action == "import":
                form = CostImportForm(request.POST, request.FILES)
                if not form.is_valid():
                    raise DomainError("choose a CSV file")
                upload = form.cleaned_data["file"]
                return start_job(
                    request,
                    kind=IMPORT_COSTS,
                    params={"filename": upload.name},
                    upload=upload,
                    title=f"Cost pool import · {upload.name}",
                )
            elif action == "compute":
                result = services.compute_service_costs(actor=request.user, period=period)
                messages.success(
                    request,
                    f"Allocated {result['pools']} pools to {result['services']} cost lines, "
                    f"{result['unit_costs']} unit costs.",
                )
        except (DomainError, ValidationError) as error:
            messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
        if import_result and import_result["rejects"]:
            self.request = request
            return self.render_to_response(self.get_context_data(import_result=import_result))
        return redirect(f"{reverse('finance:costs')}?period={period}")
