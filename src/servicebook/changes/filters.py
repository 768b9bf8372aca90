"""Filters of the change list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.catalog.models import Service
from servicebook.changes.models import ChangeRequest
from servicebook.web.lists import contains_any, visible_choices

#: The columns the list sorts by, page and API alike (``?ordering=-planned_start``).
CHANGE_ORDERING = ["reference", "title", "change_type", "status", "planned_start", "created_at"]


class ChangeFilter(filters.FilterSet):
    """Status, type, risk, service, and a text search on reference, title and description."""

    q = filters.CharFilter(method="search_text", label="Search")
    service = filters.ModelChoiceFilter(
        field_name="services", queryset=visible_choices(Service), label="Service"
    )

    class Meta:
        model = ChangeRequest
        fields = ["q", "status", "change_type", "risk", "service"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "reference", "title", "description")
