"""Every case, in every syntax, passes the official validation artefacts: the UBL 2.1 XSD, the
CEN EN 16931 and Peppol BIS Billing 3.0 Schematron (UBL), the Factur-X EN 16931 XSD and
Schematron (CII). A fatal finding fails the test and prints the rule and its message."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from lxml import etree

from servicebook.finance.billing.einvoice.cii import to_cii
from servicebook.finance.billing.einvoice.ubl import to_ubl
from tests.finance.billing.einvoice.cases import CASES
from tests.finance.billing.einvoice.validation import check_cii, check_ubl


def _report(result: dict[str, list]) -> str:
    return "\n".join(f"{kind}: {m}" for kind, ms in result.items() for m in ms)


@pytest.mark.parametrize("case", sorted(CASES))
def test_ubl_passes_xsd_en16931_and_peppol(case):
    result = check_ubl(to_ubl(CASES[case]()))
    fatal = {k: v for k, v in result.items() if k != "warnings"}
    assert not any(fatal.values()), "\n" + _report(fatal)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cii_passes_facturx_xsd_and_en16931_schematron(case):
    result = check_cii(to_cii(CASES[case]()))
    fatal = {k: v for k, v in result.items() if k != "warnings"}
    assert not any(fatal.values()), "\n" + _report(fatal)


def test_the_validators_do_find_errors():
    """A document with a wrong amount due and no buyer reference: each artefact says so (the
    checks above would be worthless if a broken file passed)."""
    ubl = to_ubl(CASES["domestic"]())
    ubl = re.sub(rb"<cbc:BuyerReference>.*?</cbc:BuyerReference>", b"", ubl)
    ubl = ubl.replace(
        b'<cbc:PayableAmount currencyID="EUR">', b'<cbc:PayableAmount currencyID="EUR">9'
    )
    ubl = ubl.replace(b"<cbc:IssueDate>", b"<cbc:Bogus/><cbc:IssueDate>", 1)
    result = check_ubl(ubl)
    assert result["xsd"] and "Bogus" in result["xsd"][0]
    assert any("BR-CO-16" in m for m in result["en16931"])
    assert any("PEPPOL-EN16931-R003" in m for m in result["peppol"])
    cii = to_cii(CASES["domestic"]()).replace(b"<ram:DuePayableAmount>", b"<ram:DuePayableAmount>9")
    assert any("BR-CO-16" in m for m in check_cii(cii)["en16931"])


NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def _ubl(case):
    return etree.fromstring(to_ubl(CASES[case]()))


def test_domestic_invoice_rounds_vat_per_rate():
    doc = CASES["domestic"]()
    assert [(r.category.value, r.rate, r.taxable, r.tax) for r in doc.vat_breakdown] == [
        ("S", D("5.5"), D("37.04"), D("2.04")),
        ("S", D("20"), D("5085.00"), D("1017.00")),
    ]
    root = _ubl("domestic")
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=NS) == "380"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "6141.08"
    assert (
        root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", NS).get("schemeID")
        == "9957"
    )


def test_reverse_charge_states_the_exemption_and_both_vat_numbers():
    root = _ubl("reverse_charge")
    category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert category.findtext("cbc:ID", namespaces=NS) == "AE"
    assert category.findtext("cbc:TaxExemptionReasonCode", namespaces=NS) == "VATEX-EU-AE"
    assert category.findtext("cbc:TaxExemptionReason", namespaces=NS) == "Reverse charge"
    assert root.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS) == "0.00"
    vat_ids = root.findall(".//cac:PartyTaxScheme/cbc:CompanyID", NS)
    assert [v.text for v in vat_ids] == ["FR44732829320", "DE136695976"]


def test_service_credit_is_an_allowance_and_in_kind_part_is_paid_amount():
    root = _ubl("credit_and_in_kind")
    allowance = root.find("cac:AllowanceCharge", NS)
    assert allowance.findtext("cbc:ChargeIndicator", namespaces=NS) == "false"
    assert allowance.findtext("cbc:AllowanceChargeReasonCode", namespaces=NS) == "64"
    totals = root.find("cac:LegalMonetaryTotal", NS)
    values = {etree.QName(e).localname: e.text for e in totals}
    assert values == {
        "LineExtensionAmount": "10000.00",
        "TaxExclusiveAmount": "9550.00",
        "TaxInclusiveAmount": "11460.00",
        "AllowanceTotalAmount": "450.00",
        "PrepaidAmount": "3600.00",
        "PayableAmount": "7860.00",
    }
    assert "settled in kind" in root.findtext("cbc:Note", namespaces=NS)


def test_partial_credit_note_references_its_invoice():
    root = _ubl("partial_credit_note")
    assert etree.QName(root).localname == "CreditNote"
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    reference = root.find("cac:BillingReference/cac:InvoiceDocumentReference", NS)
    assert reference.findtext("cbc:ID", namespaces=NS) == "INV-2026-00042"
    assert reference.findtext("cbc:IssueDate", namespaces=NS) == "2026-11-02"
    assert root.findtext("cac:CreditNoteLine/cbc:CreditedQuantity", namespaces=NS) == "10"
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "426.00"


def test_usd_invoice_states_its_vat_in_euro_too():
    doc = CASES["usd"]()
    assert doc.totals.tax == D("2815.91")
    assert doc.vat_in_vat_currency == D("2428.72")  # 2815.91 × 0.8625
    root = _ubl("usd")
    assert root.findtext("cbc:TaxCurrencyCode", namespaces=NS) == "EUR"
    totals = root.findall("cac:TaxTotal", NS)
    assert [(t.find("cbc:TaxAmount", NS).get("currencyID"), len(t)) for t in totals] == [
        ("USD", 2),
        ("EUR", 1),
    ]
    assert root.findtext("cac:PaymentMeans/cbc:PaymentMeansCode", namespaces=NS) == "30"
    cii = etree.fromstring(to_cii(doc))
    amounts = cii.findall(".//{*}TaxTotalAmount")
    assert [(a.get("currencyID"), a.text) for a in amounts] == [
        ("USD", "2815.91"),
        ("EUR", "2428.72"),
    ]
