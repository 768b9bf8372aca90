"""Filters of the agreement list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

import re

from django_filters import rest_framework as filters

from servicebook.agreements.models import Agreement, Calendar
from servicebook.agreements.orders.models import Order
from servicebook.catalog.models import Service
from servicebook.parties.models import Customer
from servicebook.web.lists import contains_any, visible_choices

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
        return contains_any(queryset, value, "reference", "title", "customer__name")


#: The columns the order list sorts by, page and API alike (``?ordering=-created_at``).
ORDER_ORDERING = ["created_at", "status", "monthly_amount", "quantity"]


class OrderFilter(filters.FilterSet):
    """Status, customer, agreement, and a text search on the offering and the requester."""

    q = filters.CharFilter(method="search_text", label="Search")
    customer = filters.ModelChoiceFilter(
        field_name="agreement__customer", queryset=visible_choices(Customer), label="Customer"
    )
    agreement = filters.ModelChoiceFilter(queryset=visible_choices(Agreement))
    service = filters.ModelChoiceFilter(
        field_name="offering__service", queryset=visible_choices(Service), label="Service"
    )

    class Meta:
        model = Order
        fields = ["q", "status", "customer", "agreement", "service"]

    def search_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        by_reference = re.fullmatch(r"(?i)ORD-0*(\d{1,18})", value)
        if by_reference:
            return queryset.filter(pk=int(by_reference.group(1)))
        return contains_any(
            queryset, value, "offering__name", "requester__name", "agreement__reference", "note"
        )


class CalendarFilter(filters.FilterSet):
    """Business calendars: a text search on the name, the time zone and the holiday country."""

    q = filters.CharFilter(method="search_text", label="Search")

    class Meta:
        model = Calendar
        fields = ["q"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "name", "time_zone", "holiday_country")
