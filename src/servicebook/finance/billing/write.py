"""Writing a close's plan: its documents issued and their entries posted, in chunks of customers
with bulk inserts, inside the caller's transaction (a failure leaves no trace)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from servicebook.core.errors import DomainError
from servicebook.core.garbage import fewer_collections
from servicebook.core.periods import period_dates
from servicebook.finance.billing import credits, numbering
from servicebook.finance.billing.documents import ZERO, Document, Plan, Summary
from servicebook.finance.billing.models import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    LineKind,
    Statement,
    StatementLine,
)
from servicebook.finance.billing.numbering import INVOICE_SERIES
from servicebook.finance.billing.plan import (
    CloseScope,
    build_plan,
    number_invoices,
)
from servicebook.finance.ledger import posting

#: customers planned and written per chunk: memory is bounded by the chunk, not the month (the
#: documents are the same whatever the size; tests lower it to close in several chunks)
CHUNK = 2000


def after_chunk(done: int, total: int) -> None:
    """Called after each chunk of customers is written (a seam for crash tests)."""


def write_close(period: str, *, today: dt.date, actor=None, progress=None) -> dict:
    """Plan and write a close chunk of customers after chunk, inside the caller's transaction
    (a failure in any chunk, or a problem found in one, leaves nothing: the caller's
    transaction rolls back what earlier chunks wrote). The summary of the whole close, with
    ``entries`` posted."""
    scope = CloseScope.load(period)
    summary = Summary(period)
    entries, done, total = 0, 0, len(scope.customers)
    # a chunk keeps a few hundred thousand objects alive until written: see core.garbage
    with _keys_checked_as_written(), fewer_collections():
        for chunk in scope.chunks(CHUNK):
            entries += _write_chunk(period, scope, chunk, summary, today=today, actor=actor)
            done += len(chunk)
            after_chunk(done, total)
            if progress is not None:
                progress(20 + 70 * done // max(total, 1), 100, f"{done:,} of {total:,} customers")
    return {**summary.as_dict(), "entries": entries}


def _write_chunk(
    period: str, scope: CloseScope, chunk: list[int], summary: Summary, *, today, actor
) -> int:
    """Plan and write one chunk of customers (its plan dropped once written); its entries."""
    plan = build_plan(
        period,
        provider=scope.provider,
        today=today,
        scope=scope,
        chunk=chunk,
        first_statement=summary.statements + 1,
    )
    if plan.problems:
        raise DomainError(
            f"cannot close {period}: " + "; ".join(plan.problems[:5]), code="close_refused"
        )
    entries = write_plan(plan, actor=actor)["entries"]
    summary.add(plan)
    return entries


#: the tables a close writes in bulk
_WRITTEN = (Statement, StatementLine, Invoice, InvoiceLine, InvoiceEvent)


@contextmanager
def _keys_checked_as_written() -> Iterator[None]:
    """PostgreSQL: the foreign keys of the rows a close writes are checked at the end of each
    bulk statement, while its rows are fresh in memory, instead of all at commit (deferred, the
    commit of 100,000 customers re-read millions of rows); deferred again afterwards. Parents
    are always written before their children, so no check fails that would pass at commit."""
    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in (*_WRITTEN, *posting.POSTED)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT quote_ident(conname) FROM pg_constraint WHERE contype = 'f' "
            "AND condeferred AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        names = ", ".join(sorted(row[0] for row in cursor.fetchall()))
    if not names:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
    yield
    with connection.cursor() as cursor:  # not after a failure: the transaction rolls back
        cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def write_plan(plan: Plan, *, actor=None) -> dict:
    """Issue the documents and post the entries of a plan (inside the caller's transaction)."""
    accounts = posting.accounts()
    centres = posting.cost_centre_accounts(
        {d.customer.cost_centre for d in plan.documents if d.kind == "statement"}
    )
    _, last = period_dates(plan.period)
    docs = plan.documents
    invoices = [d for d in docs if d.kind == "invoice"]
    if invoices:  # the invoice numbers, for real: gapless, under the series' lock
        year = invoices[0].issue_date.year
        number_invoices(invoices, numbering.allocate(INVOICE_SERIES, year, len(invoices)))
    specs = [(doc, doc.entry_spec(plan.period, last, accounts, centres)) for doc in docs]
    posted = posting.post_ids([spec for _, spec in specs if spec is not None], actor=actor)
    entry_of = iter(posted)
    entry_ids = {id(doc): next(entry_of) for doc, spec in specs if spec is not None}
    _write_statements(plan, [d for d in docs if d.kind == "statement"], entry_ids)
    _write_invoices(plan, invoices, entry_ids, actor)
    return {"entries": len(posted)}


def _write_statements(plan: Plan, statements: list[Document], entry_ids: dict) -> None:
    created = posting.insert_rows(
        Statement,
        [
            {
                "number": d.number,
                "period": plan.period,
                "customer_id": d.customer.pk,
                "funding_model": d.funding_model,
                "currency": d.currency,
                "total_cost": d.total_cost,
                "total_charge": d.total_charge,
                "recovered": d.recovered,
                "uncovered": d.uncovered,
                "budget": d.customer.budget_per_period,
                **_rate_fields(plan, d),
                "posted": id(d) in entry_ids,
                "entry_id": entry_ids.get(id(d)),
            }
            for d in statements
        ],
    )
    posting.fast_insert(
        StatementLine,
        [
            "statement",
            "service",
            "offering",
            "source",
            "description",
            "quantity",
            "unit_cost",
            "cost",
            "charge",
        ],
        (  # a generator: the server inserts while Python makes the next rows
            (
                statement_id,
                i.service_id,
                i.offering_id,
                i.source,
                i.description[:200],
                i.quantity,
                i.rate,
                i.cost,
                i.amount,
            )
            for statement_id, d in zip(created, statements, strict=True)
            for i in d.items
        ),
    )


def _dumped(dumped: dict, breakdown: list) -> str:
    """The JSON of a line's breakdown, once per list (lines priced alike share theirs)."""
    if not breakdown:  # most lines: each has its own empty list
        return "[]"
    text = dumped.get(id(breakdown))
    if text is None:
        text = dumped[id(breakdown)] = json.dumps(breakdown)
    return text


def _write_invoices(plan: Plan, invoices: list[Document], entry_ids: dict, actor) -> None:
    """The invoices, their lines and their "issued" events; the credits they apply are marked."""
    dumped: dict[int, str] = {}
    created = posting.insert_rows(
        Invoice,
        [
            {
                "number": d.number,
                "period": plan.period,
                "customer_id": d.customer.pk,
                "agreement_id": d.agreement.pk if d.agreement else None,
                "currency": d.currency,
                "issue_date": d.issue_date,
                "due_date": d.due_date,
                "gross": d.gross,
                "credits": d.credit_total,
                "total": d.total,
                "in_kind_amount": d.in_kind,
                "cash_amount": d.cash,
                "cost": _sum_cost(d),
                **_rate_fields(plan, d),
                "base_total": d.base_total,
                "entry_id": entry_ids.get(id(d)),
                "status": _status(d),
                **_legal_fields(plan, d),
            }
            for d in invoices
        ],
    )
    posting.fast_insert(
        InvoiceLine,
        [
            "invoice",
            "kind",
            "service",
            "offering",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "cost",
            "reference",
            "breakdown",
            "tax_category",
            "tax_rate",
        ],
        (  # a generator, as the statements' lines
            (
                invoice_id,
                i.kind,
                i.service_id,
                i.offering_id,
                i.description[:200],
                i.quantity,
                i.rate,
                i.amount,
                i.cost,
                i.reference,
                _dumped(dumped, i.breakdown),
                i.tax_category,
                i.tax_rate,
            )
            for invoice_id, d in zip(created, invoices, strict=True)
            for i in d.items
        ),
    )
    _issued_events(plan, created, invoices, actor)
    for d in invoices:
        credits.mark_credits_applied(d.credits, d.number, actor)


def _status(doc: Document) -> str:
    return "paid" if doc.total + doc.tax == 0 else "issued"


def _issued_events(plan: Plan, created: list[int], invoices: list[Document], actor) -> None:
    """One "issued" event per invoice of the close."""
    now = timezone.now()
    posting.fast_insert(
        InvoiceEvent,
        ["invoice", "at", "actor", "action", "from_state", "to_state", "reason", "note"],
        [
            (
                invoice_id,
                now,
                actor.pk if actor else None,
                "issued",
                "",
                _status(d),
                "",
                f"period close {plan.period}",
            )
            for invoice_id, d in zip(created, invoices, strict=True)
        ],
    )


def _legal_fields(plan: Plan, doc: Document) -> dict:
    """What the law asks the invoice to carry: its number in the series, the supply, the tax
    per rate and its mentions, the issuer's and the customer's legal identity as they are on
    the day of issue (decision 0026)."""
    provider, customer = plan.provider, doc.customer
    return {
        "series": INVOICE_SERIES,
        "fiscal_year": doc.issue_date.year if doc.issue_date else None,
        "sequence": doc.sequence,
        "supply_start": doc.supply_start,
        "supply_end": doc.supply_end,
        "payment_terms_days": (doc.due_date - doc.issue_date).days
        if doc.due_date and doc.issue_date
        else None,
        "tax_regime": doc.tax_regime,
        "taxes": doc.taxes,
        "tax_amount": doc.tax,
        "total_incl_tax": doc.total + doc.tax,
        "legal_mentions": "\n".join(doc.mentions),
        "issuer_legal_name": provider.legal_name or provider.name,
        "issuer_address": provider.address,
        "issuer_registration": provider.registration_number,
        "issuer_vat_number": provider.vat_number,
        "issuer_country": provider.country,
        "issuer_iban": provider.iban,
        "issuer_bic": provider.bic,
        "customer_legal_name": customer.legal_name or customer.name,
        "customer_address": customer.address,
        "customer_registration": customer.registration_number,
        "customer_vat_number": customer.vat_number,
        "customer_country": customer.jurisdiction,
    }


def _rate_fields(plan: Plan, doc: Document) -> dict:
    """The rate a document is posted at, stored on it (decision 0025)."""
    return {
        "base_currency": plan.provider.base_currency,
        "exchange_rate": doc.rate.value if doc.rate else Decimal(1),
        "rate_date": doc.rate.date if doc.rate else None,
    }


def _sum_cost(doc: Document) -> Decimal | None:
    costs = [i.cost for i in doc.items if i.kind in (LineKind.SUBSCRIPTION, LineKind.USAGE)]
    if any(c is None for c in costs):
        return None
    return sum(costs, ZERO)
