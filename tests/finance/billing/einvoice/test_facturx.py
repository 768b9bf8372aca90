"""Factur-X: a PDF/A-3 with the CII XML embedded as factur-x.xml, EN 16931 profile."""

from __future__ import annotations

import io
import re

import facturx
import pypdf

from servicebook.finance.billing.einvoice.cii import to_cii
from servicebook.finance.billing.einvoice.facturx_pdf import to_facturx
from tests.finance.billing.einvoice.cases import CASES
from tests.finance.billing.einvoice.validation import check_cii


def test_facturx_pdf_embeds_the_valid_cii_and_declares_pdfa3():
    doc = CASES["credit_and_in_kind"]()
    pdf = to_facturx(doc)
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml"
    assert xml == to_cii(doc)
    assert not any(v for k, v in check_cii(xml).items() if k != "warnings")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part>3<", xmp) and re.search(r"pdfaid:conformance>B<", xmp)
    assert "fx:ConformanceLevel>EN 16931<" in xmp
    assert "/AF" in reader.trailer["/Root"]  # the associated file of PDF/A-3
    text = "".join(page.extract_text() for page in reader.pages)
    assert "INV-2026-00044" in text and "11,460.00" in text and "Settled in kind" in text
