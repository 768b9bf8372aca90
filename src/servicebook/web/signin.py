"""Sign-in throttling (docs/decisions/0009-sign-in-throttling.md).

django-axes counts failed sign-ins (the web form, the admin's and ``POST /api/token/``) per
account and per address and locks them out for a cool-off after too many; an administrator can
lift a lockout at once. Failed API token use is throttled by
``servicebook.core.authentication.ThrottledTokenAuthentication``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework.authtoken.views import ObtainAuthToken

from servicebook.web.forms import LoginForm


def cool_off_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_message() -> str:
    return (
        f"Too many failed sign-ins for this account or from this address: signing in is locked "
        f"for {cool_off_minutes()} minutes. Try again later, or ask an administrator to unlock it."
    )


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out sign-in gets (axes' AXES_LOCKOUT_CALLABLE): 429 with the reason."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=429)
    form = LoginForm(request, initial={"username": (credentials or {}).get("username", "")})
    form.errors  # noqa: B018 - an unbound form gets its (empty) error list here
    form.cleaned_data = {}
    form.add_error(None, lockout_message())
    return render(
        request,
        "web/login.html",
        {"form": form, "next": request.POST.get("next", ""), "locked_out": True},
        status=429,
    )


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/token/``: DRF's token view, with sign-in throttling applied to it.

    The serializer authenticates with the underlying Django request, so a lockout (and each
    failure) is recorded and answered exactly as for the sign-in form.
    """

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "request": self.request._request}
