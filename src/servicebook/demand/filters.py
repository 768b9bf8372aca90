"""Filters of the demand list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.demand.models import DemandRequest
from servicebook.parties.models import Customer
from servicebook.web.lists import contains_any, visible_choices

#: The columns the list sorts by, page and API alike (``?ordering=-created_at``).
DEMAND_ORDERING = [
    "reference",
    "title",
    "customer__name",
    "status",
    "kind",
    "created_at",
    "required_investment",
]


class DemandFilter(filters.FilterSet):
    """Status, kind, customer, and a text search on reference, title and customer."""

    q = filters.CharFilter(method="search_text", label="Search")
    customer = filters.ModelChoiceFilter(queryset=visible_choices(Customer))

    class Meta:
        model = DemandRequest
        fields = ["q", "status", "kind", "customer"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "reference", "title", "customer__name")
