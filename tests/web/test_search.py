"""The search box (/search/?q=TEXT): grouped results, scoped to what the user may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicebook.parties.models import Customer

OTHERS_OF = {"external": "skybridge", "internal": "marketing"}


def test_staff_finds_customers_agreements_and_documents(users, web_for):
    client = web_for(users["finance"])
    response = client.get(reverse("web:search"), {"q": "SkyBridge"})
    assert response.status_code == 200
    kinds = {group["kind"] for group in response.context["groups"]}
    assert {"Customers", "Agreements", "Invoices"} <= kinds
    html = response.content.decode()
    assert "SkyBridge Airlines" in html and 'data-testid="search-customers"' in html


def test_number_search_finds_the_document(users, web_for):
    from servicebook.finance.billing.models import Invoice

    invoice = Invoice.objects.first()
    response = web_for(users["finance"]).get(reverse("web:search"), {"q": invoice.number})
    hits = [h for g in response.context["groups"] if g["kind"] == "Invoices" for h in g["hits"]]
    assert [h.title for h in hits] == [invoice.number]


@pytest.mark.parametrize("role", ["internal", "external"])
@pytest.mark.parametrize("text", ["a", "e", "INV", "ST-", "SLA", "Meridian", "Marketing", "2026"])
def test_customer_users_never_find_another_customers_objects(users, web_for, role, text):
    user = users[role]
    response = web_for(user).get(reverse("web:search"), {"q": text})
    assert response.status_code == 200
    html = response.content.decode().replace(text, "")  # the typed text is shown back
    for other in Customer.objects.exclude(pk=user.customer_id):
        assert other.name not in html, (text, other.name)
    for group in response.context["groups"]:
        for hit in group["hits"]:
            assert web_for(user).get(hit.link).status_code == 200, hit.link
    if role == "external":
        assert "cost" not in html.lower().replace("costs", "")


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [("", 200, "Type a number"), ("   ", 200, "Type a number"), ("x" * 101, 400, "at most 100")],
)
def test_empty_or_overlong_text_gets_a_clear_message(users, web_for, text, status, message):
    response = web_for(users["manager"]).get(reverse("web:search"), {"q": text})
    assert response.status_code == status
    assert message in response.content.decode()


def test_hostile_text_is_no_error(users, web_for):
    client = web_for(users["manager"])
    for text in ("\x00", "'; drop table", "%_%", "<script>", "ü" * 50):
        assert client.get(reverse("web:search"), {"q": text}).status_code < 500


def test_the_navigation_bar_has_the_search_box(users, web_for):
    html = web_for(users["external"]).get(reverse("web:home")).content.decode()
    assert 'data-testid="nav-search"' in html and 'action="/search/"' in html


def test_postgresql_matches_words_in_any_order(users, web_for):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("full-text search runs on PostgreSQL; SQLite matches the text as typed")
    response = web_for(users["manager"]).get(reverse("web:search"), {"q": "airlines skybridge"})
    customers = [g for g in response.context["groups"] if g["kind"] == "Customers"]
    assert customers and customers[0]["hits"][0].title == "SkyBridge Airlines"


@pytest.mark.parametrize("text", ["printer", "INC001"])
def test_postgresql_finds_tickets_through_the_search_indexes(users, text):
    """The ticket search (the search box's and the ticket list's) is planned on the indexes of
    levels 0006 (a full-text GIN index whose expression is the query's, trigram indexes for
    ``contains``), not by reading every ticket: a million were read for each search (issue 14).
    Fails when the searched fields and the indexed ones part ways."""
    from django.db import connection, transaction

    from servicebook.core.search import text_search
    from servicebook.levels.models import Ticket
    from servicebook.levels.search import FIELDS
    from servicebook.web.lists import contains_any

    if connection.vendor != "postgresql":
        pytest.skip("the search indexes are PostgreSQL's")
    tickets = Ticket.objects.visible_to(users["manager"])
    searches = {
        "search box": text_search(tickets, text, FIELDS),
        "ticket list": contains_any(tickets, text, *FIELDS, "assignment_group"),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the demo's few tickets fit one page
        for name, queryset in searches.items():
            sql, params = queryset.order_by().query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on levels_ticket" not in plan, (name, plan)
            assert "ticket_search_" in plan, (name, plan)
            if name == "search box":
                assert "ticket_search_words" in plan, plan
