"""The exchange rates page (staff; finance and the provider admin write): the latest rate of
each currency, the rates of the last days, a form to enter one and an ECB file upload."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect
from django.views.generic import TemplateView

from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.roles import has_role
from servicebook.core.services import require_role
from servicebook.finance.fx import services
from servicebook.finance.fx.forms import RateForm, RateImportForm
from servicebook.finance.fx.models import ExchangeRate
from servicebook.parties.models import Provider
from servicebook.web.mixins import RoleRequiredMixin, add_service_errors


def latest_rates():
    """The newest rate of each currency pair."""
    seen, latest = set(), []
    for row in ExchangeRate.objects.order_by("base", "currency", "-date").iterator():
        if (row.base, row.currency) not in seen:
            seen.add((row.base, row.currency))
            latest.append(row)
    return latest


class RatesView(RoleRequiredMixin, TemplateView):
    template_name = "finance/rates.html"

    def get_context_data(self, **kwargs):
        editor = has_role(self.request.user, *services.RATE_EDITORS)
        currency = self.request.GET.get("currency", "")
        rates = ExchangeRate.objects.visible_to(self.request.user).select_related("entered_by")
        if currency:
            rates = rates.filter(currency=currency)
        return super().get_context_data(
            base=Provider.current().base_currency,
            latest=latest_rates(),
            rates=rates[:200],
            currency=currency,
            editor=editor,
            form=kwargs.pop("form", None) or (RateForm() if editor else None),
            import_form=kwargs.pop("import_form", None) or (RateImportForm() if editor else None),
            result=kwargs.pop("result", None),
            **kwargs,
        )

    def post(self, request):
        try:
            # who may write rates is checked before the form is read
            if request.POST.get("action") == "import":
                require_role(
                    request.user, *services.RATE_EDITORS, action="Importing exchange rates"
                )
                return self._import(request)
            require_role(request.user, *services.RATE_EDITORS, action="Entering an exchange rate")
            return self._enter(request)
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error

    def _enter(self, request):
        form = RateForm(request.POST)
        if form.is_valid():
            try:
                row = services.record_rate(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Saved: {row}.")
                return redirect("finance:rates")
        return self.render_to_response(self.get_context_data(form=form))

    def _import(self, request):
        form = RateImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                result = services.import_ecb_rates(actor=request.user, text=text)
            except UnicodeDecodeError:
                form.add_error("file", "the file is not UTF-8 text (an ECB CSV)")
            except DomainError as error:
                add_service_errors(form, error)
            else:
                return self.render_to_response(self.get_context_data(result=result))
        return self.render_to_response(self.get_context_data(import_form=form))
