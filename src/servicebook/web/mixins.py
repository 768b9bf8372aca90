"""View plumbing: role checks and forms whose save goes through a service."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect

from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.roles import has_role, is_provider_staff


class RoleRequiredMixin(LoginRequiredMixin):
    """Only provider staff holding one of ``required_roles`` (empty: any staff role) get in."""

    required_roles: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            allowed = is_provider_staff(user) and (
                not self.required_roles or has_role(user, *self.required_roles)
            )
            if not allowed:
                raise DjangoPermissionDenied("Your role does not allow this page.")
        return super().dispatch(request, *args, **kwargs)


def add_service_errors(form, error: Exception) -> None:
    """Show a service's refusal on the form: on the field it names, else at the top."""
    if isinstance(error, ValidationError):
        items = (
            error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
        )
    else:
        items = [(getattr(error, "field", None), [str(error)])]
    for field, messages in items:
        target = field if field in form.fields else None
        for message in messages:
            prefix = "" if target or not field or field == "__all__" else f"{field}: "
            form.add_error(target, f"{prefix}{message}")


class ServiceFormMixin:
    """A form view whose ``perform(data)`` calls a service; refusals become form errors."""

    def perform(self, data):  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.object = self.perform(form.cleaned_data)
        except DomainPermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except (ValidationError, DomainError) as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        return HttpResponseRedirect(self.get_success_url())
