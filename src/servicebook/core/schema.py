"""Keep the OpenAPI schema true for serializers that leave fields out for some users.

A serializer that drops fields for some readers (a customer user does not receive the
provider's own assessment; a customer not taking part in an improvement plan receives its
expected results only) lists them in ``omittable_fields``: the schema then does not declare
them required, since a response without them is a correct response. Cost and margin fields
(``web.serializers.CostAwareSerializer``) are omittable too, and the schema always describes them,
whoever asks for it: the schema is built from a fresh serializer marked ``for_schema`` that
drops nothing."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension


class OmittableFieldsMixin:
    """Serializer mixin: ``omittable_fields`` are fields some readers do not receive."""

    omittable_fields: tuple[str, ...] = ()


class OmittableFieldsExtension(OpenApiSerializerExtension):
    target_class = "servicebook.core.schema.OmittableFieldsMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        target = self.target
        meta = getattr(target, "Meta", None)
        omittable = set(getattr(target, "omittable_fields", ()))
        for group in ("cost_fields", "margin_fields", "staff_fields"):
            omittable |= set(getattr(meta, group, ()))
        if getattr(type(target), "drops_fields_for_readers", False):
            target = type(target)(context={**target.context, "for_schema": True})
        schema = auto_schema._map_serializer(target, direction, bypass_extensions=True)
        required = [name for name in schema.get("required", []) if name not in omittable]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema


def writes_answer(read, write=None, update=None):
    """Class decorator for a service-backed viewset: its model writes (create, update) take
    ``write`` and answer ``read`` (the object as it is read), so the schema does not describe
    the answer by the request body."""
    from drf_spectacular.utils import extend_schema, extend_schema_view

    write = write or read
    update = update or write
    return extend_schema_view(
        create=extend_schema(request=write, responses={201: read}),
        update=extend_schema(request=update, responses=read),
        partial_update=extend_schema(request=update, responses=read),
    )
