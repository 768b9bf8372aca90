"""Filters of the agreement list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django.db.models import Q
from django_filters import rest_framework as filters

from servicebook.agreements.models import Agreement
from servicebook.parties.models import Customer
from servicebook.web.lists import visible_choices

#: The columns the list sorts by, page and API alike (``?ordering=-start_date``).
AGREEMENT_ORDERING = [
    "reference",
    "title",
    "customer__name",
    "kind",
    "status",
    "start_date",
    "end_date",
    "currency",
]


class AgreementFilter(filters.FilterSet):
    """Status, kind, currency, customer, and a text search on reference, title and customer."""

    q = filters.CharFilter(method="search_text", label="Search")
    customer = filters.ModelChoiceFilter(queryset=visible_choices(Customer))

    class Meta:
        model = Agreement
        fields = ["q", "status", "kind", "currency", "customer"]

    def search_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(customer__name__icontains=value)
        )
