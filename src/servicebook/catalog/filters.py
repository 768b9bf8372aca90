"""Filters of the service catalog list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.catalog.models import Service
from servicebook.web.lists import contains_any

#: The columns the list sorts by, page and API alike (``?ordering=name``).
SERVICE_ORDERING = ["name", "code", "status", "offered_to"]


class ServiceFilter(filters.FilterSet):
    """Status, audience, and a text search on name, code and description."""

    q = filters.CharFilter(method="search_text", label="Search")

    class Meta:
        model = Service
        fields = ["q", "status", "offered_to"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "name", "code", "description")
