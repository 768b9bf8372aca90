"""R7 and scoping for the finance API: external users never see cost or margin; another
customer's document is a 404; ledger, costs and reports are staff only."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from servicebook.finance.billing.models import Invoice, Statement

pytestmark = pytest.mark.django_db

LISTS = [
    "statement",
    "invoice",
    "payment",
    "reminder",
    "period",
    "costpool",
    "allocationrule",
    "servicecost",
    "unitcost",
    "priceoverride",
]


def _walk_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


def _bodies(client):
    for basename in LISTS:
        response = client.get(reverse(f"{basename}-list"))
        assert response.status_code == 200
        yield response.json()
        for row in response.json()["results"]:
            detail = client.get(reverse(f"{basename}-detail", args=[row["id"]]))
            assert detail.status_code == 200
            yield detail.json()
    for basename in ("account", "journalentry"):  # the ledger: finance and the admin only
        response = client.get(reverse(f"{basename}-list"))
        assert response.status_code == 403
        yield response.json()
    for name in ("cost-recovery", "external-margin", "revenue-capacity", "unit-costs"):
        yield client.get(reverse("financereport-detail", args=[name])).json()
    yield client.post(reverse("period-close"), {"period": "2026-08"}).json()
    yield client.post(reverse("payment-list"), {"invoice": 1, "kind": "x"}).json()
    yield client.get(reverse("priceoverride-check") + "?agreement=1").json()


def test_external_user_never_sees_cost_or_margin(users, client_for):
    client = client_for(users["external"])
    invoices = client.get(reverse("invoice-list")).json()["results"]
    assert invoices and all(row["customer_name"] == "SkyBridge Airlines" for row in invoices)
    seen = 0
    for body in _bodies(client):
        seen += 1
        keys = {key.lower() for key in _walk_keys(body)}
        leaked = {key for key in keys if "cost" in key or "margin" in key}
        assert not leaked, f"cost or margin in a response to an external user: {leaked}"
        assert "unit_cost" not in json.dumps(body).lower()
    assert seen > 10


def test_external_invoice_csv_and_pdf_carry_no_cost(users, web_for):
    invoice = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    web = web_for(users["external"])
    text = web.get(reverse("finance:invoice-csv", args=[invoice.pk])).content.decode()
    assert "cost" not in text.lower() and "Paris" in text
    page = web.get(reverse("finance:invoice", args=[invoice.pk])).content.decode()
    assert "Cost" not in page and "margin" not in page.lower()
    pdf = web.get(reverse("finance:invoice-pdf", args=[invoice.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_internal_user_sees_its_statement_at_cost_only(users, client_for):
    client = client_for(users["internal"])
    rows = client.get(reverse("statement-list")).json()["results"]
    assert rows and {row["customer_name"] for row in rows} == {"Marketing"}
    assert "total_cost" in rows[0] and "unit_cost" in rows[0]["lines"][0]
    assert client.get(reverse("invoice-list")).json()["count"] == 0


@pytest.mark.parametrize("role, other", [("external", "marketing"), ("internal", "skybridge")])
def test_another_customers_document_is_a_404(users, client_for, web_for, role, other):
    statement = Statement.objects.filter(customer__code=other).first()
    invoice = Invoice.objects.filter(customer__code=other).first()
    client, web = client_for(users[role]), web_for(users[role])
    if statement:
        assert client.get(reverse("statement-detail", args=[statement.pk])).status_code == 404
        assert web.get(reverse("finance:statement", args=[statement.pk])).status_code == 404
        assert web.get(reverse("finance:statement-pdf", args=[statement.pk])).status_code == 404
    if invoice:
        assert client.get(reverse("invoice-detail", args=[invoice.pk])).status_code == 404
        assert web.get(reverse("finance:invoice", args=[invoice.pk])).status_code == 404
        assert web.get(reverse("finance:invoice-csv", args=[invoice.pk])).status_code == 404


def test_staff_see_cost_and_margin_reports(users, client_for):
    client = client_for(users["finance"])
    invoice = client.get(reverse("invoice-list")).json()["results"][0]
    assert "cost" in invoice and "cost" in invoice["lines"][0]
    margin = client.get(reverse("financereport-detail", args=["external-margin"])).json()
    assert margin["period"] == "2026-10" and "margin" in margin["rows"][0]
    capacity = client.get(reverse("financereport-detail", args=["revenue-capacity"])).json()
    assert capacity["capacity_spend"] and capacity["funded_percent"]


def test_report_with_a_bad_period_is_refused(users, client_for):
    response = client_for(users["finance"]).get(
        reverse("financereport-detail", args=["funding"]) + "?period=2026-13"
    )
    assert response.status_code == 400
