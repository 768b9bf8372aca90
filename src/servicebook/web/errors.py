"""Refusals and errors rendered inside the site layout, with their reason (never a bare page).

``handler400/403/404/500`` in the URL configuration point here; ``RefusalMiddleware`` turns a
domain refusal raised by a page (``DomainError``) into the same page: 403 for a role refusal, 409
for a rule's refusal. The API is left to its own exception handler (JSON).
"""

from __future__ import annotations

import re

from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    409: "Refused",
    500: "Something went wrong",
}
DEFAULT_REASONS = {
    400: "The request could not be understood.",
    403: "Your role does not allow this page or action.",
    404: "There is no such page, or it is not visible to you.",
    409: "The rules do not allow this.",
    500: "The server hit an error. It has been logged; please try again later.",
}
MODEL_NOT_FOUND = re.compile(r"No \w+ matches the given query\.")

HINTS = {
    403: "If you need it, ask the provider's administrator for the role that allows it.",
    404: "Check the address, or start again from the home page.",
}


def _reason(exception, status: int) -> str:
    if isinstance(exception, DomainError):
        text = exception.message
    else:
        text = str(exception) if exception is not None and exception.args else ""
    # Django's resolver describes a missing URL as a dict of technical details, and
    # get_object_or_404 names the model class ("No JournalEntry matches the given query."):
    # neither is a reason a user reads.
    if not text or text.startswith(("{", "Resolver404")) or status == 500:
        return DEFAULT_REASONS[status]
    if MODEL_NOT_FOUND.fullmatch(text):
        return DEFAULT_REASONS[status]
    return text


def is_api(request) -> bool:
    return request is not None and request.path.startswith("/api/")


def render_refusal(request, status: int, exception=None) -> HttpResponse:
    """The refusal page for ``status`` (in the layout), with the exception's reason.

    Under ``/api/`` the answer is JSON (``{"detail": reason}``), as the API's own refusals are.
    """
    if is_api(request):
        return JsonResponse({"detail": _reason(exception, status)}, status=status)
    context = {
        "status": status,
        "refusal_title": TITLES[status],
        "reason": _reason(exception, status),
        "hint": HINTS.get(status, ""),
        "refusal_tone": "danger" if status >= 500 else "warning",
    }
    template = loader.get_template(f"{status}.html" if status != 409 else "web/refusal.html")
    return HttpResponse(template.render(context, request), status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return render_refusal(request, 400, exception)


@requires_csrf_token
def permission_denied(request, exception=None):
    return render_refusal(request, 403, exception)


@requires_csrf_token
def page_not_found(request, exception=None):
    return render_refusal(request, 404, exception)


@requires_csrf_token
def server_error(request):
    """500: rendered without the request's context processors, so nothing can fail again."""
    if is_api(request):
        return JsonResponse({"detail": DEFAULT_REASONS[500]}, status=500)
    context = {
        "status": 500,
        "refusal_title": TITLES[500],
        "reason": DEFAULT_REASONS[500],
        "refusal_tone": "danger",
    }
    try:
        body = loader.get_template("500.html").render(context)
    except Exception:  # the layout itself failed: a plain page still says what happened
        body = f"<h1>{TITLES[500]}</h1><p>{DEFAULT_REASONS[500]}</p>"
    return HttpResponse(body, status=500)


class RefusalMiddleware:
    """A domain refusal raised by a page becomes a refusal page in the layout (not a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_api(request) or not isinstance(exception, DomainError):
            return None
        if isinstance(exception, DomainPermissionDenied):
            return render_refusal(request, 403, exception)
        return render_refusal(request, 409, exception)
