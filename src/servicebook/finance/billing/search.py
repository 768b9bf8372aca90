"""What the search box finds among invoices and statements (``ports.search_sources``): their
number, customer and period, never a cost. Newest first by id: in the models' order (period,
number) SQLite read 50,000 documents through an index, one row at a time (issue 14)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.core.search import text_search
from servicebook.finance.billing.models import Invoice, Statement
from servicebook.ports import SearchHit, SearchSource


def invoices(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        Invoice.objects.visible_to(user).select_related("customer").order_by("-pk"),
        text,
        ("number", "period", "customer__name"),
    )
    return [
        SearchHit(
            i.number,
            reverse("finance:invoice", args=[i.pk]),
            f"{i.customer.name} · {i.period} · {i.get_status_display()}",
        )
        for i in rows[:limit]
    ]


def statements(user, text: str, limit: int) -> list[SearchHit]:
    rows = text_search(
        Statement.objects.visible_to(user).select_related("customer").order_by("-pk"),
        text,
        ("number", "period", "customer__name"),
    )
    return [
        SearchHit(
            s.number,
            reverse("finance:statement", args=[s.pk]),
            f"{s.customer.name} · {s.period}",
        )
        for s in rows[:limit]
    ]


SOURCES = [
    SearchSource("Invoices", invoices, more="finance:invoices"),
    SearchSource("Statements", statements, more="finance:statements"),
]
