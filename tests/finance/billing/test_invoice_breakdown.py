"""Graduated, volume and package lines show their steps on the invoice page, the print (PDF)
template and the CSV: every line's arithmetic can be checked by hand (no "12000 × 0.09 = 820")."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from servicebook.finance.billing.breakdown import charge_steps, steps_text
from servicebook.finance.billing.models import InvoiceLine

pytestmark = pytest.mark.django_db
TIERS = [(D(0), D("0.09")), (D(1000), D("0.07")), (D(10000), D("0.05"))]


def test_graduated_steps_add_up_to_the_amount():
    steps = charge_steps("graduated", D(12000), D("0.09"), tiers=TIERS)
    assert [(s["quantity"], s["unit_price"], s["amount"]) for s in steps] == [
        ("1000", "0.09", "90"),
        ("9000", "0.07", "630"),
        ("2000", "0.05", "100"),
    ]
    assert sum(D(s["amount"]) for s in steps) == D(820)
    assert steps_text(steps).startswith("tier 0-1000: 1000 × 0.09 = 90 + ")


def test_volume_package_flat_and_per_unit():
    (volume,) = charge_steps(
        "volume", D(12000), D("0.12"), tiers=[(D(0), D("0.12")), (D(10000), D("0.09"))]
    )
    assert (volume["quantity"], volume["unit_price"], volume["amount"]) == ("12000", "0.09", "1080")
    (package,) = charge_steps("package", D(1200), D(40), package_size=D(500))
    assert (package["quantity"], package["amount"]) == ("3", "120")
    assert charge_steps("per_unit", D(3), D(2)) == []


@pytest.fixture
def tiered_line():
    line = (
        InvoiceLine.objects.filter(offering__charge_model__in=["graduated", "volume"])
        .exclude(breakdown=[])
        .select_related("invoice__customer")
        .first()
    )
    assert line is not None, "the demo close issues tiered invoice lines with their steps"
    return line


def test_close_stores_steps_that_add_up_to_every_tiered_line():
    lines = InvoiceLine.objects.filter(
        offering__charge_model__in=["graduated", "volume", "package"]
    )
    assert lines.exists()
    for line in lines:
        assert line.breakdown, line
        assert sum(D(s["amount"]) for s in line.breakdown).quantize(D("0.01")) == line.amount


def test_page_pdf_template_and_csv_show_the_steps(users, web_for, tiered_line):
    invoice = tiered_line.invoice
    web = web_for(users["finance"])
    page = web.get(reverse("finance:invoice", args=[invoice.pk])).content.decode()
    assert page.count('data-testid="breakdown-step"') >= len(tiered_line.breakdown)
    for step in tiered_line.breakdown:
        assert f"× {step['unit_price']}" in page and f"= {step['amount']}" in page
    html = render_to_string(
        "finance/document_print.html",
        {"is_invoice": True, "doc": invoice, "lines": list(invoice.lines.all()), "provider": None},
    )
    for step in tiered_line.breakdown:
        assert step["label"] in html and f"= {step['amount']}" in html
    body = web.get(reverse("finance:invoice-csv", args=[invoice.pk])).content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    row = next(r for r in rows if r["description"] == tiered_line.description)
    assert row["breakdown"] == tiered_line.breakdown_text and row["unit_price"] == ""
