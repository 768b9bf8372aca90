"""My work (what waits for the user, and their notifications) and notification settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.views import View
from django.views.generic import FormView, TemplateView

from servicebook.core.params import object_id
from servicebook.notifications import selectors, services
from servicebook.notifications.forms import ChannelsForm


class MyWorkView(LoginRequiredMixin, TemplateView):
    template_name = "notifications/my_work.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "items": selectors.my_work(user),
            "notifications": selectors.recent(user),
            "unread": selectors.unread_count(user),
        }


class CountView(LoginRequiredMixin, View):
    """The navigation bar's badge: items waiting plus unread notifications (loaded by htmx after
    the page, so no page waits for every app to count its work)."""

    def get(self, request):
        waiting = len(selectors.my_work(request.user)) + selectors.unread_count(request.user)
        if not waiting:
            return HttpResponse("")
        return HttpResponse(
            format_html(
                '<span class="badge rounded-pill text-bg-warning" data-testid="my-work-count" '
                'title="{} waiting">{}</span>',
                waiting,
                waiting,
            )
        )


class MarkReadView(LoginRequiredMixin, View):
    """POST ``id`` (one notification) or nothing (all of them): mark read, back to My work."""

    def post(self, request):
        raw = request.POST.get("id")
        ids = None
        if raw is not None:
            pk = object_id(raw)
            ids = [pk] if pk is not None else []
        services.mark_read(user=request.user, ids=ids)
        return HttpResponseRedirect(reverse("notifications:my-work"))


class SettingsView(LoginRequiredMixin, FormView):
    template_name = "notifications/settings.html"

    def get_form(self, form_class=None):
        channels = selectors.channels_of(self.request.user)
        return ChannelsForm(**self.get_form_kwargs(), initial_channels=channels)

    def form_valid(self, form):
        services.set_channels(user=self.request.user, channels=form.cleaned_data)
        messages.success(self.request, "Your notification settings are saved.")
        return HttpResponseRedirect(reverse("notifications:settings"))
