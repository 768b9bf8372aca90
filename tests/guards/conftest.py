"""Shared set-up of the guards.

The guards ask who may fetch a PDF, not how WeasyPrint lays it out: the template is still rendered
(a template error still answers 5xx), but ``write_pdf`` returns a stub instead of spending half a
second per document. The documents themselves are checked by each app's own PDF tests
(``tests/finance/test_finance_pages.py``, ``tests/improvement/test_api.py``).
"""

import pytest

STUB_PDF = b"%PDF-1.7\n% guard stub: layout is checked by the apps' own PDF tests\n%%EOF\n"


@pytest.fixture(autouse=True)
def _pdf_layout_stubbed(monkeypatch):
    import weasyprint

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", lambda self, *args, **kwargs: STUB_PDF)


@pytest.fixture(autouse=True)
def _facturx_embedding_stubbed(monkeypatch):
    """The stub is no PDF the factur-x package could open: embedding the XML is checked by
    ``tests/finance/billing/einvoice/test_facturx.py``; the guards only ask who gets the file."""
    from servicebook.finance.billing.einvoice import facturx_pdf

    monkeypatch.setattr(facturx_pdf, "generate_from_binary", lambda pdf, xml, **kwargs: pdf)
