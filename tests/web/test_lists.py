"""The list component (web/lists.py): filters, sorting, paging, CSV/XLSX export of the filtered
list, cost and margin columns only for those who may see them, flat query counts."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from servicebook.parties.models import Customer


def test_customer_list_filters_sorts_and_pages(users, web_for):
    client = web_for(users["manager"])
    response = client.get(reverse("parties:list"), {"q": "sky"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "SkyBridge" in html and "Marketing" not in html
    assert 'data-testid="export-csv"' in html
    response = client.get(reverse("parties:list"), {"sort": "-name"})
    names = [row.record.name for row in response.context["table"].paginated_rows]
    assert names == sorted(names, reverse=True)
    assert client.get(reverse("parties:list"), {"page": "abc", "status": "\x00"}).status_code == 200


def test_csv_export_is_the_filtered_list_with_a_bom(users, web_for):
    client = web_for(users["manager"])
    response = client.get(reverse("parties:list"), {"kind": "external", "_export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    lines = body[1:].strip().splitlines()
    expected = Customer.objects.filter(kind="external").count()
    assert len(lines) == expected + 1  # a header and every matching customer (not one page)


def test_xlsx_export_opens(users, web_for):
    client = web_for(users["manager"])
    response = client.get(reverse("parties:list"), {"_export": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Name"
    assert len(rows) == Customer.objects.count() + 1


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_are_sent_to_their_own_customer(users, web_for, role):
    response = web_for(users[role]).get(reverse("parties:list"), {"_export": "csv"})
    assert response.status_code == 302


# --- every list: cost and margin never reach an external user; query counts stay flat ----------

#: (url name, args) of every list page on the list component, and a query matching one row.
LISTS = {
    "catalog:list": "name",
    "agreements:list": "reference",
    "changes:list": "reference",
    "demand:list": "reference",
    "finance:invoices": "number",
    "finance:statements": "number",
    "improvement:list": "title",
    "finance:ledger-entries": "memo",
    "finance:payments": "invoice",
    "parties:contacts": "name",
    "agreements:orders": "offering",
}


def _list_urls():
    from servicebook.agreements.models import Agreement

    urls = {name: reverse(name) for name in LISTS}
    urls["parties:list"] = reverse("parties:list")
    urls["levels:list"] = reverse("levels:list")
    busiest = Agreement.objects.annotate(n=Count("tickets")).order_by("-n").first()
    urls["levels:tickets"] = reverse("levels:tickets", args=[busiest.pk])
    return urls


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_external_exports_show_no_cost_or_margin(users, web_for, export_format):
    from servicebook.agreements.models import Agreement
    from servicebook.finance.billing.models import Invoice

    user = users["external"]
    client = web_for(user)
    secrets = {
        str(value)
        for value in [
            *Invoice.objects.filter(customer=user.customer).values_list("cost", flat=True),
            *(a.monthly_cost() for a in Agreement.objects.filter(customer=user.customer)),
        ]
        if value
    }
    for name, url in _list_urls().items():
        response = client.get(url, {"_export": export_format})
        if name == "parties:list":
            assert response.status_code == 302
            continue
        assert response.status_code in (200, 403, 404), name
        if response.status_code != 200:  # the ledger; another customer's agreement's tickets
            continue
        if export_format == "csv":
            rows = [line.split(",") for line in response.content.decode("utf-8-sig").splitlines()]
        else:
            book = openpyxl.load_workbook(io.BytesIO(response.content))
            rows = [[str(c) for c in row] for row in book.active.iter_rows(values_only=True)]
        header = " ".join(rows[0]).lower()
        assert "cost" not in header and "margin" not in header, (name, header)
        for row in rows[1:]:
            assert not secrets & set(row), (name, row)


def test_staff_exports_show_cost_and_finance_sees_it_too(users, web_for):
    for role in ("manager", "finance"):
        body = web_for(users[role]).get(reverse("finance:invoices"), {"_export": "csv"})
        assert "Provider cost" in body.content.decode("utf-8-sig").splitlines()[0]
    body = web_for(users["external"]).get(reverse("agreements:list"), {"_export": "csv"})
    header = body.content.decode("utf-8-sig").splitlines()[0]
    assert "Cash part" in header and "In kind" in header and "Monthly cost" not in header


def _count(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, url
    return len(queries), response


@pytest.mark.parametrize("export", [None, "csv"])
def test_list_query_counts_do_not_grow_with_rows(users, web_for, export):
    client = web_for(users["admin"])
    for name, url in _list_urls().items():
        extra = {"_export": export} if export else {}
        many, response = _count(client, url, extra)
        table = response.context["table"] if not export else None
        rows = table.paginator.count if table is not None else None
        model_rows = _first_value(client, url)
        few, _ = _count(client, url, {"q": model_rows, **extra})
        assert many == few, (name, export, rows, many, few)


def _first_value(client, url):
    """The text of the first row's first cell: a search matching one or a few rows."""
    table = client.get(url).context["table"]
    record = table.paginated_rows[0].record
    for field in ("memo", "reference", "number", "name", "title"):
        if getattr(record, field, ""):
            return getattr(record, field)
    return record.invoice.number  # a payment without a reference


def test_no_list_offers_a_select_of_every_customer_or_document(users, web_for):
    """A select listing every customer, agreement or invoice grows with the data (and its labels
    may query per option): those filters are set by links and carried as hidden inputs."""
    from django.forms import ModelChoiceField

    from servicebook.catalog.models import Service

    client = web_for(users["admin"])
    for name, url in _list_urls().items():
        form = client.get(url).context["filter"].form
        for field in form.visible_fields():
            if isinstance(field.field, ModelChoiceField):
                assert field.field.queryset.model is Service, (name, field.name)
