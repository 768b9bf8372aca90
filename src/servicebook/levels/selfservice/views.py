"""Self-service ticket pages (issue 15): my tickets, raise one, a ticket with its comments.

Customer users see their own customer's tickets only (``visible_to``: another customer's ticket
is a 404); provider handlers (service managers, the admin) see every portal ticket, answer,
move and write internal notes, which customer users never see.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import FormView, TemplateView

from servicebook.agreements.models import Agreement, AgreementStatus
from servicebook.core.tenancy import customer_of
from servicebook.levels.models import Ticket, TicketChannel, TicketComment, TicketKind
from servicebook.levels.selectors import tickets_waiting_for
from servicebook.levels.selfservice import services as portal
from servicebook.web.forms import BootstrapFormMixin, offer_some
from servicebook.web.mixins import ServiceFormMixin

LEVELS = [(1, "1 - High"), (2, "2 - Medium"), (3, "3 - Low")]


may_raise = portal.may_raise


def _tickets(user):
    return Ticket.objects.visible_to(user).select_related("agreement__customer")


class RaiseTicketForm(BootstrapFormMixin, forms.Form):
    agreement = forms.ModelChoiceField(queryset=Agreement.objects.none())
    kind = forms.ChoiceField(choices=TicketKind.choices)
    short_description = forms.CharField(label="Summary", max_length=portal.MAX_SUMMARY)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=portal.MAX_TEXT
    )
    impact = forms.TypedChoiceField(
        choices=LEVELS, coerce=int, help_text="How much of the business is affected."
    )
    urgency = forms.TypedChoiceField(
        choices=LEVELS, coerce=int, help_text="How soon it hurts. Priority is impact × urgency."
    )

    def __init__(self, *args, user=None, search: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        # any active agreement the user may see is accepted (one query when posted) ...
        self.fields["agreement"].queryset = (
            Agreement.objects.visible_to(user)
            .filter(status=AgreementStatus.ACTIVE)
            .select_related("customer")
            .order_by("customer__name", "reference")
        )
        # ... but the select offers only a few (issue 14: a service manager's select held every
        # agreement of 10,000 customers); ``search`` narrows them
        self.search = search.strip()[:100]
        self.more = offer_some(self, "agreement", self.search, ("reference", "customer__name"))


class CommentForm(BootstrapFormMixin, forms.Form):
    text = forms.CharField(
        label="Comment", widget=forms.Textarea(attrs={"rows": 3}), max_length=portal.MAX_TEXT
    )
    internal = forms.BooleanField(
        required=False, label="Internal note (provider staff only, never shown to the customer)"
    )

    def __init__(self, *args, handler=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not handler:
            del self.fields["internal"]


class StepForm(BootstrapFormMixin, forms.Form):
    to_state = forms.ChoiceField(label="New state", choices=())
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, steps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_state"].choices = [(s, s) for s in steps]


class MyTicketsView(LoginRequiredMixin, TemplateView):
    """Tickets raised in the portal the user may see, and those waiting for the user."""

    template_name = "levels/portal_tickets.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        tickets = _tickets(user).filter(channel=TicketChannel.PORTAL)
        if state := self.request.GET.get("state", "").strip():
            tickets = tickets.filter(state=state)
        page = Paginator(tickets.order_by("-opened_at", "-pk"), 50).get_page(
            self.request.GET.get("page")
        )
        return super().get_context_data(
            page=page,
            state=state,
            states=portal.STATES,
            waiting=list(tickets_waiting_for(user)[:20]),
            may_raise=may_raise(user),
            **kwargs,
        )


class RaiseTicketView(LoginRequiredMixin, ServiceFormMixin, FormView):
    template_name = "levels/portal_raise.html"
    form_class = RaiseTicketForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may_raise(request.user):
            raise PermissionDenied("Raising a ticket is for customer users and service managers.")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        search = self.request.GET.get("q", "")
        return {**super().get_form_kwargs(), "user": self.request.user, "search": search}

    def perform(self, data):
        return portal.raise_ticket(actor=self.request.user, **data)

    def get_success_url(self):
        messages.success(self.request, f"Ticket {self.object.number} raised.")
        return reverse("levels:portal-ticket", args=[self.object.pk])


class PortalTicketView(LoginRequiredMixin, TemplateView):
    """One ticket: its state history, comments and what the user may do next."""

    template_name = "levels/portal_ticket.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        ticket = get_object_or_404(_tickets(user), pk=self.kwargs["pk"])
        handler = portal.is_handler(user)
        party = handler or customer_of(user) is not None
        portal_ticket = ticket.channel == TicketChannel.PORTAL
        return super().get_context_data(
            ticket=ticket,
            history=ticket.history.order_by("sequence"),
            comments=TicketComment.objects.visible_to(user)
            .filter(ticket=ticket)
            .select_related("author"),
            events=ticket.events.select_related("actor").order_by("at", "pk"),
            comment_form=CommentForm(handler=handler) if party and portal_ticket else None,
            steps=portal.allowed_steps(ticket, user),
            handler=handler,
            **kwargs,
        )


class _TicketActionView(LoginRequiredMixin, ServiceFormMixin, FormView):
    """A form on one ticket the user may see (404 otherwise) and act on (403 otherwise)."""

    template_name = "levels/portal_action.html"
    title = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.ticket = get_object_or_404(_tickets(request.user), pk=kwargs["pk"])
            if not may_raise(request.user):
                raise PermissionDenied("Only the customer's users and service managers act here.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(ticket=self.ticket, title=self.title, **kwargs)

    def get_success_url(self):
        return reverse("levels:portal-ticket", args=[self.ticket.pk])


class CommentView(_TicketActionView):
    form_class = CommentForm
    title = "Comment"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "handler": portal.is_handler(self.request.user)}

    def perform(self, data):
        return portal.comment_on_ticket(actor=self.request.user, ticket=self.ticket, **data)


class StepView(_TicketActionView):
    form_class = StepForm
    title = "Change state"

    def get_form_kwargs(self):
        steps = portal.allowed_steps(self.ticket, self.request.user)
        return {**super().get_form_kwargs(), "steps": steps}

    def perform(self, data):
        user, to_state = self.request.user, data["to_state"]
        if to_state == portal.CLOSED and not portal.is_handler(user):
            return portal.close_ticket(actor=user, ticket=self.ticket, note=data["note"])
        return portal.move_ticket(actor=user, ticket=self.ticket, **data)

    def form_valid(self, form):
        response = super().form_valid(form)
        if isinstance(response, HttpResponseRedirect):
            messages.success(self.request, f"Ticket {self.ticket.number} updated.")
        return response
