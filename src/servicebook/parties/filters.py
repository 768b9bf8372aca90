"""Filters of the customer and contact lists, shared by the pages and the API
(``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.core.audience import person_name
from servicebook.core.roles import is_provider_staff
from servicebook.parties.models import Contact, Customer
from servicebook.parties.owners import owner_candidates
from servicebook.web.lists import contains_any, visible_choices

#: ``?owner=`` values besides a staff member's id.
OWNER_ME, OWNER_NONE = "me", "none"


class CustomerFilter(filters.FilterSet):
    """Kind, status, funding model, jurisdiction, relationship owner (``me``, ``none`` or a
    staff member's id), and a text search on name, code, legal name."""

    q = filters.CharFilter(method="search_text", label="Search")
    #: a choice on pages and API lists (``__init__``); the schema describes it as text
    owner = filters.CharFilter(method="filter_owner", label="Relationship owner")

    class Meta:
        model = Customer
        fields = ["q", "kind", "status", "funding_model", "jurisdiction", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(OWNER_ME, "Me"), (OWNER_NONE, "No owner")]
        user = getattr(self.request, "user", None)
        if is_provider_staff(user):  # customer users never get the list of staff
            choices += [(str(u.pk), person_name(u)) for u in owner_candidates()]
        owner = filters.ChoiceFilter(
            field_name="owner", method="filter_owner", label="Relationship owner", choices=choices
        )
        owner.model, owner.parent = self.filters["owner"].model, self
        self.filters["owner"] = owner

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "name", "code", "legal_name")

    def filter_owner(self, queryset, name, value):
        if value == OWNER_NONE:
            return queryset.filter(relationship_owner__isnull=True)
        if value == OWNER_ME:
            user = getattr(self.request, "user", None)
            if not getattr(user, "is_authenticated", False):
                return queryset.none()
            return queryset.filter(relationship_owner=user)
        if not str(value).isdigit() or len(str(value)) > 18:
            return queryset.none()
        return queryset.filter(relationship_owner_id=value)


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
