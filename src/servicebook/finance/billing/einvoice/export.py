"""An issued invoice or credit note as a file: UBL (Peppol BIS 3.0), Factur-X or PDF.

One entry point for the CLI (``servicebook export invoice``), the pages and the API, so all
three give the same bytes. Customer users reach only their own documents (``visible_to``).
"""

from __future__ import annotations

from dataclasses import dataclass

from servicebook.finance.billing.einvoice.adapter import credit_note_document, invoice_document
from servicebook.finance.billing.einvoice.document import EInvoice, EInvoiceError
from servicebook.finance.billing.legal_models import CreditNote
from servicebook.finance.billing.models import Invoice

FORMATS = ("pdf", "ubl", "facturx")
#: the media type of each format's file
CONTENT_TYPES = {"pdf": "application/pdf", "ubl": "application/xml", "facturx": "application/pdf"}


@dataclass(frozen=True)
class EInvoiceFile:
    content: bytes
    filename: str
    content_type: str


def find_document(number: str, user=None) -> Invoice | CreditNote | None:
    """The invoice or credit note numbered ``number`` that ``user`` may see (None: all)."""
    for model in (Invoice, CreditNote):
        rows = model.objects.all() if user is None else model.objects.visible_to(user)
        found = rows.select_related("customer").filter(number=number).first()
        if found is not None:
            return found
    return None


def document_of(obj: Invoice | CreditNote, *, vat_exchange_rate=None) -> EInvoice:
    if isinstance(obj, CreditNote):
        return credit_note_document(obj, vat_exchange_rate=vat_exchange_rate)
    return invoice_document(obj, vat_exchange_rate=vat_exchange_rate)


def render(obj: Invoice | CreditNote, fmt: str, *, vat_exchange_rate=None) -> EInvoiceFile:
    """``obj`` as ``fmt``: ``ubl`` (XML), ``facturx`` (PDF/A-3 with CII) or ``pdf`` (the
    PDF/A-3 a person reads, the same without the XML)."""
    from servicebook.finance.billing.einvoice.facturx_pdf import to_facturx, visual_pdf
    from servicebook.finance.billing.einvoice.ubl import to_ubl

    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
    doc = document_of(obj, vat_exchange_rate=vat_exchange_rate)
    try:
        if fmt == "ubl":
            return EInvoiceFile(to_ubl(doc), f"{obj.number}.xml", CONTENT_TYPES[fmt])
        if fmt == "facturx":
            return EInvoiceFile(to_facturx(doc), f"{obj.number}-facturx.pdf", CONTENT_TYPES[fmt])
        return EInvoiceFile(visual_pdf(doc), f"{obj.number}.pdf", CONTENT_TYPES[fmt])
    except EInvoiceError:
        raise
    except ValueError as error:  # text XML cannot carry (a document from before the checks)
        raise EInvoiceError(f"its text cannot be written as XML: {error}") from None
