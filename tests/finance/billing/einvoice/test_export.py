"""The demo's issued invoices and credit notes as e-invoices: every one passes the official
rules; the command, the pages and the API give them to whom may see them, and nobody else."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.urls import reverse
from lxml import etree

from servicebook.cli import main
from servicebook.finance.billing.einvoice.adapter import (
    credit_note_document,
    invoice_document,
    parse_address,
    registration_endpoint,
)
from servicebook.finance.billing.einvoice.cii import to_cii
from servicebook.finance.billing.einvoice.document import EInvoiceError, VatCategory
from servicebook.finance.billing.einvoice.ubl import to_ubl
from servicebook.finance.billing.legal_models import CreditNote
from servicebook.finance.billing.models import Invoice
from tests.finance.billing.einvoice.validation import check_cii, check_ubl

pytestmark = pytest.mark.django_db


def _fatal(result):
    return "\n".join(f"{k}: {m}" for k, ms in result.items() if k != "warnings" for m in ms)


def test_address_lines_become_en16931_fields():
    address = parse_address("12 avenue des Champs\n75008 Paris\nFrance", "FR")
    assert (address.street, address.postcode, address.city) == (
        "12 avenue des Champs",
        "75008",
        "Paris",
    )
    address = parse_address("Hafenstraße 5\nGebäude B\n20457 Hamburg", "DE")
    assert (address.additional, address.postcode, address.city) == ("Gebäude B", "20457", "Hamburg")
    assert parse_address("", "SG").country == "SG"
    address = parse_address("1600 Sunset Boulevard\nLos Angeles, CA 90028\nUnited States", "US")
    assert (address.city, address.subdivision, address.postcode) == (
        "Los Angeles",
        "US-CA",
        "90028",
    )
    address = parse_address("Wilhelminakade 1\n3072 AP Rotterdam\nNetherlands", "NL")
    assert (address.postcode, address.city) == ("3072 AP", "Rotterdam")


def test_every_demo_invoice_passes_en16931_and_peppol():
    invoices = list(Invoice.objects.order_by("number"))
    assert invoices
    for invoice in invoices:
        doc = invoice_document(invoice)
        assert doc.totals.tax == invoice.tax_amount
        assert doc.totals.tax_inclusive == invoice.total_incl_tax, invoice.number
        assert doc.totals.payable == invoice.cash_amount, invoice.number
        cii = check_cii(to_cii(doc))
        assert not _fatal(cii), f"{invoice.number}\n{_fatal(cii)}"
        ubl = check_ubl(to_ubl(doc))
        assert not _fatal(ubl), f"{invoice.number}\n{_fatal(ubl)}"


def test_customers_outside_the_eu_have_their_peppol_address_from_their_registration():
    """Westlake (US) and Pacific (Singapore) have no VAT number: their EIN (EAS 9959) and their
    UEN (EAS 0195) are their electronic addresses, so their invoices go through Peppol too."""
    endpoints = {}
    for invoice in Invoice.objects.filter(tax_regime="outside_scope"):
        doc = invoice_document(invoice)
        assert {line.vat_category for line in doc.lines} == {VatCategory.NOT_SUBJECT}
        assert doc.seller.vat_id == "" and doc.seller.electronic_address  # BR-O-02
        endpoints[invoice.customer.code] = doc.buyer.electronic_address
    assert endpoints == {"westlake": ("9959", "123456789"), "pacific": ("0195", "SGUEN201912345R")}
    assert registration_endpoint("US", "EIN 00-0000000") is None  # not a valid EIN
    assert registration_endpoint("GB", "12345678") is None  # no Peppol scheme of our own


def test_a_customer_without_an_electronic_address_gets_factur_x_not_peppol():
    invoice = Invoice.objects.filter(customer__code="westlake").first()
    doc = invoice_document(invoice)
    nowhere = dataclasses.replace(doc, buyer=dataclasses.replace(doc.buyer, endpoint=None))
    assert nowhere.buyer.electronic_address is None
    with pytest.raises(EInvoiceError, match=r"buyer\.endpoint: Peppol needs an electronic"):
        to_ubl(nowhere)
    assert not _fatal(check_cii(to_cii(nowhere)))  # Factur-X needs no Peppol address


def test_demo_credit_note_references_its_invoice_and_passes():
    note = CreditNote.objects.select_related("invoice").first()
    assert note is not None
    doc = credit_note_document(note)
    assert doc.preceding_invoice == note.invoice.number
    assert doc.totals.tax_exclusive == note.net_amount and doc.totals.tax == note.tax_amount
    ubl = to_ubl(doc)
    assert not _fatal(check_ubl(ubl)), _fatal(check_ubl(ubl))
    assert not _fatal(check_cii(to_cii(doc)))
    root = etree.fromstring(ubl)
    assert etree.QName(root).localname == "CreditNote"


def test_reverse_charge_invoice_of_the_demo():
    invoice = Invoice.objects.filter(tax_regime="reverse_charge").first()
    assert invoice is not None
    rows = invoice_document(invoice).vat_breakdown
    assert [(r.category, r.exemption_code) for r in rows] == [
        (VatCategory.REVERSE_CHARGE, "VATEX-EU-AE")
    ]


def test_export_command_writes_ubl_and_facturx(capsys, tmp_path):
    invoice = Invoice.objects.filter(tax_regime="domestic").order_by("number").first()
    out = tmp_path / "inv.xml"
    assert (
        main(["export", "invoice", invoice.number, "--format", "ubl", "-o", str(out), "--json"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["number"] == invoice.number and summary["bytes"] == out.stat().st_size
    assert etree.fromstring(out.read_bytes()).findtext("{*}ID") == invoice.number
    pdf = tmp_path / "inv.pdf"
    assert main(["export", "invoice", invoice.number, "--format", "facturx", "-o", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["INV-1999-00001", "--format", "ubl"],
            "no invoice or credit note numbered 'INV-1999-00001'",
        ),
        (["{number}", "--format", "ubl", "--vat-rate", "x"], "vat-rate"),
        (["{number}", "--format", "pdf", "--json"], "give --output FILE"),
    ],
)
def test_export_command_refuses_in_one_line(capsys, args, message):
    number = Invoice.objects.order_by("number").first().number
    try:
        code = main(["export", "invoice", *[a.replace("{number}", number) for a in args]])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_export_refuses_a_missing_output_before_drawing_the_pdf(capsys, monkeypatch):
    """The refusal comes first: nothing is read or drawn for a command that cannot succeed."""
    from servicebook.finance.billing.einvoice import export

    monkeypatch.setattr(export, "render", lambda *a, **k: pytest.fail("rendered"))
    assert main(["export", "invoice", "ANY-1", "--format", "facturx", "--json"]) == 2
    assert "give --output FILE" in capsys.readouterr().err


def test_a_pdf_export_prints_nothing_on_stderr(capsys, tmp_path):
    """The command configures logging as a user's terminal gets it: the PDF renderer turns the
    font library's logger to DEBUG while it subsets fonts, and the records it passes up (every
    font table read) must not reach the console (a user saw hundreds of lines)."""
    number = Invoice.objects.order_by("number").first().number
    out = tmp_path / "inv.pdf"
    assert main(["export", "invoice", number, "--format", "pdf", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert capsys.readouterr().err == ""


def test_pages_and_api_give_customers_their_own_invoices_only(users, web_for, client_for):
    own = Invoice.objects.filter(customer=users["external"].customer).first()
    other = Invoice.objects.exclude(customer=users["external"].customer).first()
    assert own is not None and other is not None
    web = web_for(users["external"])
    page = web.get(reverse("finance:invoice", args=[own.pk]))
    assert reverse("finance:invoice-ubl", args=[own.pk]) in page.content.decode()
    response = web.get(reverse("finance:invoice-ubl", args=[own.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    assert b"<cbc:ID>" + own.number.encode() in response.content
    assert web.get(reverse("finance:invoice-ubl", args=[other.pk])).status_code == 404
    assert web.get(reverse("finance:invoice-facturx", args=[other.pk])).status_code == 404
    api = client_for(users["external"])
    response = api.get(f"/api/invoices/{own.pk}/facturx/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert api.get(f"/api/invoices/{other.pk}/ubl/").status_code == 404
    assert api.get(f"/api/invoices/{other.pk}/facturx/").status_code == 404
    staff = client_for(users["finance"]).get(f"/api/invoices/{other.pk}/ubl/")
    assert staff.status_code == 200 and b"CustomizationID" in staff.content
    assert b"cost" not in staff.content.lower()


def test_pages_and_api_give_credit_notes_to_their_customer_only(users, web_for, client_for):
    note = CreditNote.objects.select_related("customer").first()
    assert note is not None, "the demo issues a credit note"
    owner = next((u for u in users.values() if getattr(u, "customer", None) == note.customer), None)
    stranger = next(
        u for u in users.values() if getattr(u, "customer", None) not in (None, note.customer)
    )
    staff = web_for(users["finance"])
    page = staff.get(reverse("finance:credit-note", args=[note.pk])).content.decode()
    assert reverse("finance:credit-note-ubl", args=[note.pk]) in page
    assert reverse("finance:credit-note-facturx", args=[note.pk]) in page
    response = staff.get(reverse("finance:credit-note-ubl", args=[note.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    assert b"<CreditNote" in response.content and note.number.encode() in response.content
    response = staff.get(reverse("finance:credit-note-facturx", args=[note.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    api = client_for(users["finance"])
    assert api.get(f"/api/credit-notes/{note.pk}/ubl/").status_code == 200
    assert api.get(f"/api/credit-notes/{note.pk}/facturx/").content.startswith(b"%PDF")
    outsider = web_for(stranger)
    assert outsider.get(reverse("finance:credit-note-ubl", args=[note.pk])).status_code == 404
    assert client_for(stranger).get(f"/api/credit-notes/{note.pk}/ubl/").status_code == 404
    if owner is not None:
        own = client_for(owner).get(f"/api/credit-notes/{note.pk}/facturx/")
        assert own.status_code == 200 and b"cost" not in own.content.lower()


def test_api_vat_rate_must_be_a_number(users, client_for):
    invoice = Invoice.objects.first()
    response = client_for(users["finance"]).get(f"/api/invoices/{invoice.pk}/ubl/?vat_rate=abc")
    assert response.status_code == 400
