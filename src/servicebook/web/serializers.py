"""Serializers that apply the policy's disclosure rules (R6, R7) to what a reader sees.

Core's API plumbing (``servicebook.core.api``) knows no policy; the interfaces that show cost
or margin build on this.
"""

from __future__ import annotations

from rest_framework import serializers

from servicebook.core.roles import is_provider_staff
from servicebook.core.schema import OmittableFieldsMixin
from servicebook.policy import user_may_see_cost, user_may_see_margin


class CostAwareSerializer(OmittableFieldsMixin, serializers.ModelSerializer):
    """Drops the fields a reader may not see (R7): ``Meta.cost_fields`` for users who may not
    see cost (external customers), ``Meta.margin_fields`` for all but finance and the admin,
    ``Meta.staff_fields`` for customer users. The schema describes them all as optional."""

    #: the OpenAPI schema is built from a fresh instance that drops nothing (core.schema)
    drops_fields_for_readers = True

    def get_fields(self):
        fields = super().get_fields()
        if self.context.get("for_schema"):
            return fields
        request = self.context.get("request")
        user = getattr(request, "user", None)
        meta = self.Meta
        if not user_may_see_cost(user):
            for name in getattr(meta, "cost_fields", ()):
                fields.pop(name, None)
        if not user_may_see_margin(user):
            for name in getattr(meta, "margin_fields", ()):
                fields.pop(name, None)
        if not is_provider_staff(user):
            for name in getattr(meta, "staff_fields", ()):
                fields.pop(name, None)
        return fields
