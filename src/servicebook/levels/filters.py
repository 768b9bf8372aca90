"""Filters of the ticket list and the service levels overview, shared by the pages and the API
(``filterset_class``)."""

from __future__ import annotations

from django.db.models import Q
from django_filters import rest_framework as filters

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Service
from servicebook.levels.models import Outage, Ticket
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


class OutageFilter(filters.FilterSet):
    """Outages: of an agreement (its own and those of the services it measures), a service,
    planned or not, and a text search on the reference and the description."""

    q = filters.CharFilter(method="search_text", label="Search")
    agreement = filters.ModelChoiceFilter(
        queryset=visible_choices(Agreement), method="of_agreement"
    )
    service = filters.ModelChoiceFilter(queryset=visible_choices(Service))
    planned = filters.ChoiceFilter(
        choices=[("yes", "Planned maintenance"), ("no", "Outages")],
        method="by_planned",
        label="What",
    )

    class Meta:
        model = Outage
        fields = ["q", "agreement", "service", "planned"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "reference", "description", "service__name")

    def by_planned(self, queryset, name, value):
        return queryset.filter(planned=value == "yes") if value else queryset

    def of_agreement(self, queryset, name, value):
        if value is None:
            return queryset
        services = value.targets.filter(service__isnull=False).values("service")
        return queryset.filter(Q(agreement=value) | Q(agreement__isnull=True, service__in=services))
