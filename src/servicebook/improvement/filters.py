"""Filters of the improvement register, shared by the page and the API (``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.improvement.models import Improvement
from servicebook.parties.models import Customer
from servicebook.policy import KIND_CHOICES
from servicebook.web.lists import contains_any, visible_choices

#: The columns the list sorts by, page and API alike (``?ordering=-created_at``).
IMPROVEMENT_ORDERING = ["title", "customer__name", "driver", "status", "created_at", "expected_by"]
#: Filters only provider staff are offered on the page (customer users see their own items).
STAFF_FILTERS = ("driver", "source", "kind")


class ImprovementFilter(filters.FilterSet):
    """Status, driver, source, kind of customer, customer, and a text search on the title and
    description."""

    q = filters.CharFilter(method="search_text", label="Search")
    kind = filters.ChoiceFilter(
        field_name="customer__kind", choices=KIND_CHOICES, label="Customers"
    )
    customer = filters.ModelChoiceFilter(queryset=visible_choices(Customer))

    class Meta:
        model = Improvement
        fields = ["q", "status", "driver", "source", "kind", "customer"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "title", "description")


#: The ratings the health list filters by (computed, so filtered after the ranking).
RATING_CHOICES = [("at_risk", "At risk"), ("watch", "Watch"), ("good", "Good")]


class HealthFilter(filters.FilterSet):
    """The relationship health list: the window's last month, kind of customer, rating, and a
    text search on the customer's name and code."""

    period = filters.CharFilter(method="keep", label="Period (YYYY-MM)")
    q = filters.CharFilter(method="search_text", label="Search")
    kind = filters.ChoiceFilter(field_name="kind", choices=KIND_CHOICES, label="Customers")
    rating = filters.ChoiceFilter(choices=RATING_CHOICES, method="keep", label="Health")

    class Meta:
        model = Customer
        fields = ["period", "q", "kind", "rating"]

    def keep(self, queryset, name, value):
        return queryset  # applied by the view: the period to health_of, the rating after it

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "name", "code")
