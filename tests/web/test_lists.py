"""The list component (web/lists.py): filters, sorting, paging, CSV/XLSX export of the filtered
list, cost and margin columns only for those who may see them, flat query counts."""

from __future__ import annotations

import io

import openpyxl
import pytest
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
