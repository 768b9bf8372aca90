"""What the search box finds among customers and contacts (``ports.search_sources``)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.search import text_search
from servicebook.parties.models import Contact, Customer
from servicebook.ports import SearchHit, SearchSource


def customers(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        Customer.objects.visible_to(user), text, ("name", "code", "legal_name", "business_unit")
    )
    return [
        SearchHit(c.name, reverse("parties:detail", args=[c.pk]), f"{c.code} · {c.status}")
        for c in rows[:limit]
    ]


def contacts(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        Contact.objects.visible_to(user).select_related("customer"), text, ("name", "email")
    )
    return [
        SearchHit(c.name, reverse("parties:detail", args=[c.customer_id]), c.customer.name)
        for c in rows[:limit]
    ]


SOURCES = [
    SearchSource("Customers", customers, more="parties:list"),
    SearchSource("Contacts", contacts),
]
