"""Pages of deliverables: recorded by the provider on an agreement, accepted or rejected by the
customer's authorized person from the agreement page (decision 0023)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView

from servicebook.agreements.models import Agreement
from servicebook.changes.deliverables import services
from servicebook.changes.deliverables.models import Deliverable
from servicebook.changes.models import ChangeRequest
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.ports import PageSection
from servicebook.web.mixins import RoleRequiredMixin, ServiceFormMixin


class DeliverableForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    change = forms.ModelChoiceField(
        queryset=ChangeRequest.objects.none(),
        required=False,
        help_text="The change it is delivered under (empty: the agreement itself).",
    )

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["change"].queryset = ChangeRequest.objects.filter(
            impacts__customer=agreement.customer,
            impacts__agreement__reference=agreement.reference,
        ).distinct()


class DeliverableCreateView(RoleRequiredMixin, ServiceFormMixin, FormView):
    required_roles = services.DELIVERABLE_EDITORS
    form_class = DeliverableForm
    template_name = "agreements/action_form.html"
    title = "Record a deliverable"

    def dispatch(self, request, *args, **kwargs):
        self.agreement = get_object_or_404(
            Agreement.objects.visible_to(request.user), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "agreement": self.agreement}

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement, **kwargs)

    def perform(self, data):
        return services.add_deliverable(actor=self.request.user, agreement=self.agreement, **data)

    def get_success_url(self):
        return reverse("agreements:detail", args=[self.agreement.pk]) + "#deliverables"


class DeliverableDecideView(View):
    """POST ``verdict`` (accept | reject) and ``reason``: the customer's authorized person."""

    def post(self, request, pk):
        if not request.user.is_authenticated:
            raise DjangoPermissionDenied("sign in first")
        deliverable = get_object_or_404(Deliverable.objects.visible_to(request.user), pk=pk)
        back = reverse("agreements:detail", args=[deliverable.agreement_id]) + "#deliverables"
        try:
            services.decide_deliverable(
                actor=request.user,
                deliverable=deliverable,
                verdict=request.POST.get("verdict", ""),
                reason=request.POST.get("reason", ""),
            )
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(back)
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
            return redirect(back)
        messages.success(request, f"Recorded: {deliverable.title}")
        return redirect(back)


def agreement_section(agreement, user) -> PageSection:
    """The agreement page's deliverables (``ports.agreement_sections``): those of every version
    of the agreement the user may see; accept/reject buttons for the customer's authorized
    person, the add link for the provider's editors."""
    from servicebook.core.roles import has_role, is_provider_staff

    rows = (
        Deliverable.objects.visible_to(user)
        .filter(agreement__reference=agreement.reference, agreement__customer=agreement.customer)
        .select_related("change", "accepted_by", "agreement")
        .prefetch_related("events__contact")
    )
    rows = list(rows)
    contact = getattr(user, "contact", None) if user.customer_id else None
    return PageSection(
        "changes/_deliverables.html",
        {
            "deliverables": rows,
            "accepted_count": sum(1 for d in rows if d.status == "accepted"),
            "can_decide": user.customer_id == agreement.customer_id
            and contact is not None
            and contact.active
            and contact.is_approver,
            "can_add_deliverable": is_provider_staff(user)
            and has_role(user, *services.DELIVERABLE_EDITORS)
            and agreement.status == "active",
        },
    )
