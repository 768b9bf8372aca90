"""Filters of the customer and contact lists, shared by the pages and the API
(``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.parties.models import Contact, Customer
from servicebook.web.lists import contains_any, visible_choices


class CustomerFilter(filters.FilterSet):
    """Kind, status, funding model, jurisdiction, and a text search on name, code, legal name."""

    q = filters.CharFilter(method="search_text", label="Search")

    class Meta:
        model = Customer
        fields = ["q", "kind", "status", "funding_model", "jurisdiction"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "name", "code", "legal_name")


#: The columns the contact list sorts by, page and API alike (``?ordering=customer__name``).
CONTACT_ORDERING = ["name", "customer__name", "title", "email", "authority_limit"]


class ContactFilter(filters.FilterSet):
    """Customer, roles, active or not, and a text search on name, e-mail, title and customer."""

    q = filters.CharFilter(method="search_text", label="Search")
    customer = filters.ModelChoiceFilter(queryset=visible_choices(Customer))

    class Meta:
        model = Contact
        fields = ["q", "is_approver", "is_requester", "is_billing", "active", "customer"]

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "name", "email", "title", "customer__name")
