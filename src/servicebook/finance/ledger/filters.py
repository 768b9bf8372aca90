"""Filters of the journal entry list, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.finance.ledger.models import JournalEntry
from servicebook.parties.models import Customer
from servicebook.web.lists import contains_any, visible_choices

#: The columns the list sorts by, page and API alike (``?ordering=-date``).
ENTRY_ORDERING = ["id", "period", "date", "kind", "customer__name"]


class JournalEntryFilter(filters.FilterSet):
    """Period, kind, customer, and a text search on the memo and the customer."""

    q = filters.CharFilter(method="search_text", label="Search")
    customer = filters.ModelChoiceFilter(queryset=visible_choices(Customer))

    class Meta:
        model = JournalEntry
        fields = ["q", "period", "kind", "customer"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "memo", "customer__name")
