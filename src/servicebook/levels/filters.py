"""Filters of the ticket list and the service levels overview, shared by the pages and the API
(``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.agreements.models import Agreement
from servicebook.levels.models import Ticket
from servicebook.parties.models import Customer
from servicebook.web.lists import contains_any, visible_choices

#: The columns the list sorts by, page and API alike (``?ordering=-opened_at``).
TICKET_ORDERING = ["number", "priority", "state", "opened_at", "resolved_at", "category"]


class TicketFilter(filters.FilterSet):
    """Priority, state, kind, source, open or not, agreement, and a text search on number,
    description, category and assignment group."""

    q = filters.CharFilter(method="search_text", label="Search")
    agreement = filters.ModelChoiceFilter(queryset=visible_choices(Agreement))

    class Meta:
        model = Ticket
        fields = ["q", "priority", "state", "kind", "source", "active", "agreement"]

    def search_text(self, queryset, name, value):
        return contains_any(
            queryset, value, "number", "short_description", "category", "assignment_group"
        )


class ServiceLevelFilter(filters.FilterSet):
    """The service levels overview: kind of agreement, customer, and a text search on the
    agreement's reference, title and customer."""

    q = filters.CharFilter(method="search_text", label="Search")
    customer = filters.ModelChoiceFilter(queryset=visible_choices(Customer))

    class Meta:
        model = Agreement
        fields = ["q", "kind", "customer"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "reference", "title", "customer__name")
