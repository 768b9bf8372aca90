"""Factur-X: a PDF/A-3 a person reads with the CII XML (EN 16931 profile) a machine reads.

The visible PDF is drawn from the same :class:`~.document.EInvoice` as the XML (template
``finance/einvoice_print.html``, WeasyPrint in PDF/A-3b), so the two cannot disagree; the
``factur-x`` package embeds the XML as ``factur-x.xml`` and writes the XMP metadata.
"""

from __future__ import annotations

from facturx import generate_from_binary

from servicebook.finance.billing.einvoice.cii import to_cii
from servicebook.finance.billing.einvoice.document import EInvoice


def visual_pdf(doc: EInvoice) -> bytes:
    """The document as a PDF/A-3b a person reads (no XML attached yet)."""
    from django.template.loader import render_to_string
    from weasyprint import HTML

    html = render_to_string(
        "finance/einvoice_print.html",
        {
            "doc": doc,
            "title": "Credit note" if doc.is_credit_note else "Invoice",
            "parties": (("Seller", doc.seller), ("Buyer", doc.buyer)),
            "totals": doc.totals,
            "vat": doc.vat_breakdown,
            "vat_in_vat_currency": doc.vat_in_vat_currency,
        },
    )
    return HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")


def to_facturx(doc: EInvoice, pdf: bytes | None = None) -> bytes:
    """A Factur-X PDF (EN 16931 profile): ``pdf`` (by default :func:`visual_pdf`) with the CII
    embedded; the XML is checked against the Factur-X XSD on the way in."""
    xml = to_cii(doc)
    kind = "Credit note" if doc.is_credit_note else "Invoice"
    metadata = {
        "author": doc.seller.name,
        "keywords": "Factur-X, EN 16931",
        "title": f"{doc.seller.name}: {kind} {doc.number}",
        "subject": f"{kind} {doc.number} dated {doc.issue_date.isoformat()} "
        f"issued by {doc.seller.name}",
    }
    return generate_from_binary(
        pdf if pdf is not None else visual_pdf(doc),
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata=metadata,
        lang="en-GB",
    )
