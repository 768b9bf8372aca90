"""Filters of the service catalog list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django.db.models import Q
from django_filters import rest_framework as filters

from servicebook.catalog.models import Service

#: The columns the list sorts by, page and API alike (``?ordering=name``).
SERVICE_ORDERING = ["name", "code", "status", "offered_to"]


class ServiceFilter(filters.FilterSet):
    """Status, audience, and a text search on name, code and description."""

    q = filters.CharFilter(method="search_text", label="Search")

    class Meta:
        model = Service
        fields = ["q", "status", "offered_to"]

    def search_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(code__icontains=value) | Q(description__icontains=value)
        )
