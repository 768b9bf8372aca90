"""API plumbing: the exception handler, cost-aware serializers, and service-backed viewsets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotAuthenticated
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.core.services import require_role

if TYPE_CHECKING:  # the mixins below are mixed into these DRF classes
    from rest_framework.serializers import Serializer as _Serializer
    from rest_framework.viewsets import GenericViewSet as _ViewSet
else:
    _ViewSet = _Serializer = object


def exception_handler(exc, context):
    """Turn domain refusals and model validation into 400s with field errors, 403 for roles."""
    if isinstance(exc, DomainPermissionDenied):
        exc = DRFPermissionDenied(exc.message)
    elif isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = DRFValidationError(detail)
    elif isinstance(exc, IntegrityError):
        exc = DRFValidationError({"detail": ["conflicts with existing data"]})
    return drf_exception_handler(exc, context)


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


#: the model actions a plain tuple of ``write_roles`` applies to, and their verb in a refusal
_MODEL_WRITES = {
    "create": "Creating",
    "update": "Changing",
    "partial_update": "Changing",
    "destroy": "Deleting",
}


class PermissionFirstMixin(_ViewSet):
    """Every write checks who may make it first, then takes a JSON object (or a form).

    ``write_roles`` maps each write action of a viewset to ``(roles, what it does)``; a plain
    tuple of roles covers the model writes (create, update, delete). A customer user or a staff
    member without one of the roles gets 403 whatever the body, before anything reads it, so no
    validation message ever tells them about data they may not see (e.g. that another customer's
    code exists). Any JSON body that is not an object (``0``, ``[]``, ``"x"``, ``true``,
    ``null``) is refused with a 400 saying so, never a 500. Checked once, after authentication,
    before any action reads the body."""

    #: action name → (roles that may do it, "what it does"), or roles for the model writes
    write_roles: Mapping[str, tuple[tuple[str, ...], str]] | tuple[str, ...] = {}

    def _needed_roles(self) -> tuple[tuple[str, ...], str] | None:
        action = getattr(self, "action", None) or ""
        if isinstance(self.write_roles, Mapping):
            return self.write_roles.get(action)
        if action in _MODEL_WRITES and self.write_roles:
            label = self.get_queryset().model._meta.verbose_name
            return tuple(self.write_roles), f"{_MODEL_WRITES[action]} a {label}"
        return None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        needed = self._needed_roles()
        if needed is not None:
            roles, what = needed
            if not request.user.is_authenticated:
                raise NotAuthenticated()
            require_role(request.user, *roles, action=what)
        method = request.method.lower()
        answered = method in self.http_method_names and getattr(self, method, None) is not None
        if (
            answered
            and request.method in ("POST", "PUT", "PATCH")
            and not isinstance(request.data, Mapping)
        ):
            raise DomainError(
                "the request body must be a JSON object of named fields "
                f'(such as {{"name": "value"}}), not {_json_kind(request.data)}',
                code="bad_body",
            )


class ScopedFieldsMixin(_Serializer):
    """Related fields accept only objects the user can see.

    Any related field whose queryset offers ``visible_to`` is narrowed to the requesting user, so
    a customer user can never point a write at another customer's object.
    """

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        related: Any
        for related in fields.values():
            queryset = getattr(related, "queryset", None)
            if queryset is not None and hasattr(queryset, "visible_to"):
                related.queryset = queryset.visible_to(user)
        return fields


class ScopedWriteSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    """Model input serializer with scoped related fields."""


class ScopedInputSerializer(ScopedFieldsMixin, serializers.Serializer):
    """Plain input serializer (for workflow actions) with scoped related fields."""


class ServiceBackedViewSet(
    PermissionFirstMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A viewset whose reads are scoped by ``visible_to`` and whose writes call services.

    Subclasses set ``queryset`` (a ScopedQuerySet), ``serializer_class`` for reads,
    ``write_serializer_class`` for input, and implement ``create_object`` / ``update_object``.
    Customer users are read-only here.
    """

    write_serializer_class: type[serializers.Serializer] | None = None

    def get_queryset(self):
        queryset: Any = super().get_queryset()  # a ScopedQuerySet
        return queryset.visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update") and self.write_serializer_class:
            return self.write_serializer_class
        return self.serializer_class

    def _read_serializer(self) -> type[serializers.BaseSerializer]:
        assert self.serializer_class is not None, f"{type(self).__name__} sets serializer_class"
        return self.serializer_class

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_object(serializer.validated_data)
        output = self._read_serializer()(instance, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = self.update_object(instance, serializer.validated_data)
        output = self._read_serializer()(instance, context=self.get_serializer_context())
        return Response(output.data)

    def create_object(self, data):  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def update_object(self, instance, data):  # pragma: no cover - subclasses implement
        raise NotImplementedError


if TYPE_CHECKING:  # what the mixin is mixed into
    from rest_framework.generics import GenericAPIView as _StepBase
else:
    _StepBase = object


class StepActionMixin(_StepBase):
    """Workflow actions written once: ``return self.step(request, services.approve, Input)``.

    One step on one object: find it (scoped by ``get_queryset``, so another customer's object is
    a 404), ask ``refuse(user, obj)`` who may before the body is read, validate the body with the
    input serializer, call ``service(actor=user, <step_object>=obj, **input, **extra)``, and
    answer the object as re-read through ``get_queryset`` in ``step_answer_class`` (what a
    reader of the object receives). A service's ``DomainError`` or ``ValidationError`` reaches
    :func:`exception_handler`: a 400 with ``{"detail", "code", "field"}`` or field errors, a
    403 for a role, the same answers as every other write.
    """

    #: the keyword the app's services take the object by (``change``, ``demand``, …)
    step_object: str = ""
    #: the serializer a step answers the object with (the viewset's reading serializer)
    step_answer_class: type[serializers.BaseSerializer] | None = None

    def step(
        self,
        request,
        service,
        input_class: type[serializers.BaseSerializer] | None = None,
        *,
        refuse=None,
        **extra,
    ) -> Response:
        obj = self.get_object()
        if refuse is not None:
            refuse(request.user, obj)
        values = {}
        if input_class is not None:
            body = input_class(data=request.data, context=self.get_serializer_context())
            body.is_valid(raise_exception=True)
            values = body.validated_data
        service(actor=request.user, **{self.step_object: obj}, **values, **extra)
        return self.step_answer(obj)

    def step_answer(self, obj, *, status_code: int = status.HTTP_200_OK) -> Response:
        """``obj`` as its reader receives it, re-read after the step."""
        assert self.step_answer_class is not None, f"{type(self).__name__}.step_answer_class"
        fresh = self.get_queryset().get(pk=obj.pk)
        answer = self.step_answer_class(fresh, context=self.get_serializer_context())
        return Response(answer.data, status=status_code)
