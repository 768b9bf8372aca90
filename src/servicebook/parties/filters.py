"""Filters of the customer list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django.db.models import Q
from django_filters import rest_framework as filters

from servicebook.parties.models import Customer


class CustomerFilter(filters.FilterSet):
    """Kind, status, funding model, jurisdiction, and a text search on name, code, legal name."""

    q = filters.CharFilter(method="search_text", label="Search")

    class Meta:
        model = Customer
        fields = ["q", "kind", "status", "funding_model", "jurisdiction"]

    def search_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(code__icontains=value) | Q(legal_name__icontains=value)
        )
