"""API plumbing: the exception handler, cost-aware serializers, and service-backed viewsets."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied
from servicebook.policy import user_may_see_cost, user_may_see_margin


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


class CostAwareSerializer(serializers.ModelSerializer):
    """Drops cost fields for users who may not see cost and margin fields for non-staff (R7).

    Subclasses list them in ``Meta.cost_fields`` and ``Meta.margin_fields`` (the latter also
    holds any other field for provider staff only).
    """

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        meta = self.Meta
        if not user_may_see_cost(user):
            for name in getattr(meta, "cost_fields", ()):
                fields.pop(name, None)
        if not user_may_see_margin(user):
            for name in getattr(meta, "margin_fields", ()):
                fields.pop(name, None)
        return fields


class ScopedFieldsMixin:
    """Related fields accept only objects the user can see.

    Any related field whose queryset offers ``visible_to`` is narrowed to the requesting user, so
    a customer user can never point a write at another customer's object.
    """

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for field in fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and hasattr(queryset, "visible_to"):
                field.queryset = queryset.visible_to(user)
        return fields


class ScopedWriteSerializer(ScopedFieldsMixin, serializers.ModelSerializer):
    """Model input serializer with scoped related fields."""


class ScopedInputSerializer(ScopedFieldsMixin, serializers.Serializer):
    """Plain input serializer (for workflow actions) with scoped related fields."""


class ServiceBackedViewSet(
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
        return super().get_queryset().visible_to(self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update") and self.write_serializer_class:
            return self.write_serializer_class
        return self.serializer_class

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_object(serializer.validated_data)
        output = self.serializer_class(instance, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = self.update_object(instance, serializer.validated_data)
        output = self.serializer_class(instance, context=self.get_serializer_context())
        return Response(output.data)

    def create_object(self, data):  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def update_object(self, instance, data):  # pragma: no cover - subclasses implement
        raise NotImplementedError
