"""Electronic invoices: the EN 16931 document and its UBL (Peppol BIS 3.0), CII and Factur-X
writers (decision 0027, docs/e-invoicing.md)."""

from servicebook.finance.billing.einvoice.document import (
    Address,
    Allowance,
    DocumentType,
    EInvoice,
    EInvoiceError,
    Line,
    Party,
    VatBreakdown,
    VatCategory,
)

__all__ = [
    "Address",
    "Allowance",
    "DocumentType",
    "EInvoice",
    "EInvoiceError",
    "Line",
    "Party",
    "VatBreakdown",
    "VatCategory",
]
