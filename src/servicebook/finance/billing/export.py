"""CSV and PDF exports of statements, invoices and the reports (the journal: ``ledger.export``).

An invoice export for an external user never carries cost (R7): the columns depend on
``user_may_see_cost``. PDFs are rendered by WeasyPrint from the same HTML template as the page.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from servicebook.finance.billing.models import Invoice, Statement
from servicebook.finance.ledger.export import to_csv
from servicebook.policy import user_may_see_cost


def statement_csv(statement: Statement) -> str:
    header = [
        "statement",
        "period",
        "customer",
        "service",
        "description",
        "source",
        "quantity",
        "unit_cost",
        "cost",
        "charge",
        "currency",
    ]
    rows = (
        [
            statement.number,
            statement.period,
            statement.customer.name,
            line.service.name,
            line.description,
            line.source,
            line.quantity,
            line.unit_cost,
            line.cost,
            line.charge,
            statement.currency,
        ]
        for line in statement.lines.select_related("service")
    )
    return to_csv(header, rows)


def invoice_csv(invoice: Invoice, user) -> str:
    with_cost = user_may_see_cost(user) and not getattr(user, "customer_id", None)
    header = [
        "invoice",
        "period",
        "customer",
        "kind",
        "description",
        "quantity",
        "unit_price",
        "amount",
        "currency",
        "breakdown",
    ] + (["cost"] if with_cost else [])
    rows = (
        [
            invoice.number,
            invoice.period,
            invoice.customer.name,
            line.kind,
            line.description,
            line.quantity,
            "" if line.breakdown else line.unit_price,  # tiered: the steps say it
            line.amount,
            invoice.currency,
            line.breakdown_text,
        ]
        + ([line.cost] if with_cost else [])
        for line in invoice.lines.all()
    )
    return to_csv(header, rows)


def report_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    header = [key for key in rows[0] if not key.endswith("_id") and key != "breakdown"]
    return to_csv(header, ([row.get(key) for key in header] for row in rows))


def document_pdf(context: dict) -> bytes:
    """A statement or invoice as PDF (WeasyPrint), from ``finance/document_print.html``."""
    from weasyprint import HTML

    html = render_to_string("finance/document_print.html", context)
    return HTML(string=html).write_pdf()
