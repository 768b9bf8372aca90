"""Credit notes (decision 0026): all or part of an invoice cancelled, with a reason.

A credit note has its own gapless series (CN-2026-00001, :mod:`.numbering`), names the invoice
it credits and posts the reversal as a new entry -- Dr *Service revenue* (the amount excluding
tax), Dr *VAT payable* (its tax) / Cr *Trade receivables* -- in an open period: posted entries
never change. The invoice's own figures stay as issued; what it still asks the customer to pay
falls by the credit (``Invoice.outstanding_cash``). A credit note never exceeds what remains
creditable: the invoice's total excluding tax less earlier credit notes, and, tax included, the
part settled in cash less earlier credit notes (an in-kind part is settled in goods, not money).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from servicebook.core.errors import DomainError
from servicebook.core.idempotency import checked_key, earlier_write
from servicebook.core.models import User
from servicebook.core.money import round_money, to_decimal
from servicebook.core.periods import period_of
from servicebook.core.services import document_text, require_role, save_validated
from servicebook.finance.billing import numbering
from servicebook.finance.billing.legal_models import CreditNote
from servicebook.finance.billing.models import Invoice, InvoiceStatus
from servicebook.finance.billing.workflows import INVOICE
from servicebook.finance.ledger import periods, posting
from servicebook.finance.ledger.models import EntryKind
from servicebook.finance.ledger.periods import require_open
from servicebook.finance.ledger.services import FINANCE
from servicebook.policy import Posting, policy_for

ZERO = Decimal("0.00")
#: a reason is printed on the credit note and carried in its e-invoice (the page form's limit)
REASON_MAX = 500


@transaction.atomic
def issue_credit_note(
    *,
    actor: User | None,
    invoice: Invoice,
    amount: Decimal | str,
    reason: str,
    date: dt.date | None = None,
    request_key: str | None = None,
) -> CreditNote:
    """Credit ``amount`` (excluding tax) of ``invoice``; its tax follows the invoice's rates.

    ``request_key`` names the submission (a key the form carries, or the API's
    ``Idempotency-Key``): the same key again -- a double click, a retried request -- returns the
    credit note it issued, marked ``repeated``, instead of issuing a second one.
    """
    require_role(actor, *FINANCE, action="Issuing a credit note")
    request_key = checked_key(request_key)
    if not (reason or "").strip():
        raise DomainError("a credit note needs a reason", code="reason_required", field="reason")
    reason = document_text(reason, field="reason", max_length=REASON_MAX)
    invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
    earlier = earlier_write(
        CreditNote.objects,
        request_key,
        same={"invoice_id": invoice.pk},
        elsewhere="on another invoice",
        label=lambda note: note.number,
    )
    if earlier is not None:
        return earlier
    net = _checked_amount(invoice, amount)
    date = _checked_date(invoice, date)
    require_open(period_of(date))
    taxes = credited_taxes(invoice, net)
    tax = sum((Decimal(t["tax"]) for t in taxes), ZERO)
    total = net + tax
    cash_left = invoice.cash_amount - invoice.credited
    if total > cash_left:
        raise DomainError(
            f"{invoice.currency} {total} (tax included) exceeds the cash part that remains "
            f"creditable on {invoice.number} ({cash_left}); the in-kind part is settled in "
            "goods or services, not money",
            code="exceeds_creditable",
            field="amount",
        )
    sequence = numbering.allocate(numbering.CREDIT_NOTE_SERIES, date.year)
    _check_date_order(date)  # the series is locked by the allocation: no race
    number = numbering.format_number(numbering.CREDIT_NOTE_SERIES, date.year, sequence)
    (entry,) = posting.post([_entry(invoice, number, net, tax, date)], actor=actor)
    note = CreditNote(
        number=number,
        fiscal_year=date.year,
        sequence=sequence,
        invoice=invoice,
        customer=invoice.customer,
        currency=invoice.currency,
        issue_date=date,
        reason=reason,
        net_amount=net,
        tax_amount=tax,
        total=total,
        taxes=taxes,
        entry=entry,
        created_by=actor,
        request_key=request_key,
    )
    save_validated(note)
    note.repeated = False
    invoice.credited_net += net
    invoice.credited += total
    text = f"{number}: {invoice.currency} {total} credited ({reason})"[:2000]
    if invoice.outstanding <= 0 and invoice.status != InvoiceStatus.PAID:
        INVOICE.move(invoice, InvoiceStatus.PAID, actor=actor, action="credit_note", note=text)
    else:
        save_validated(invoice)
        INVOICE.record(invoice, actor, "credit_note", note=text)
    return note


def _checked_date(invoice: Invoice, date: dt.date | None) -> dt.date:
    """The credit note's date: today unless given, not before its invoice nor after today."""
    today = periods.today()
    date = date or today
    if date < invoice.issue_date:
        raise DomainError(
            f"a credit note cannot predate its invoice ({invoice.issue_date:%Y-%m-%d})",
            field="date",
        )
    if date > today:
        raise DomainError(
            f"a credit note is dated the day it is issued or earlier, not after today "
            f"({today:%Y-%m-%d})",
            field="date",
        )
    return date


def _check_date_order(date: dt.date) -> None:
    """Numbers follow dates: a credit note may not be dated before the last one of its series
    and year (a chronological and continuous sequence, as invoicing law asks)."""
    last = (
        CreditNote.objects.filter(fiscal_year=date.year, issue_date__gt=date)
        .order_by("-sequence")
        .first()
    )
    if last is not None:
        raise DomainError(
            f"{last.number} is dated {last.issue_date:%Y-%m-%d}: credit notes are numbered in "
            f"date order, so date this one {last.issue_date:%Y-%m-%d} or later",
            field="date",
            code="out_of_order",
        )


def _checked_amount(invoice: Invoice, amount) -> Decimal:
    try:
        net = to_decimal(amount)
    except ValueError as error:
        raise DomainError(str(error), field="amount") from None
    positive = f"the amount must be positive, in whole minor units of {invoice.currency}"
    if not net.is_finite() or net <= 0:
        raise DomainError(positive, field="amount")
    if net > invoice.creditable:
        raise DomainError(
            f"{invoice.currency} {net} exceeds what remains creditable on {invoice.number}: "
            f"{invoice.creditable} of its {invoice.total} excluding tax"
            + (f" ({invoice.credited_net} credited already)" if invoice.credited_net else ""),
            code="exceeds_creditable",
            field="amount",
        )
    if round_money(net, invoice.currency) != net:  # bounded by now: quantize cannot overflow
        raise DomainError(positive, field="amount")
    return net


def credited_taxes(invoice: Invoice, net: Decimal) -> list[dict]:
    """The credit's tax per rate: ``net`` spread over the invoice's taxable bases in proportion,
    each taxed at its rate; the last credit of an invoice takes exactly the tax that is left."""
    groups = [t for t in invoice.taxes if Decimal(t["base"])]
    if not groups:
        return []
    whole = sum((Decimal(t["base"]) for t in groups), ZERO)
    rows, spread = [], ZERO
    for i, group in enumerate(groups):
        base = (
            net - spread
            if i == len(groups) - 1
            else round_money(net * Decimal(group["base"]) / whole, invoice.currency)
        )
        spread += base
        tax = round_money(base * Decimal(group["rate"]) / 100, invoice.currency)
        rows.append({**group, "base": str(base), "tax": str(tax)})
    if net == invoice.creditable:  # the last credit: no rounding left behind
        tax_left = invoice.tax_amount - (invoice.credited - invoice.credited_net)
        drift = tax_left - sum((Decimal(r["tax"]) for r in rows), ZERO)
        if drift and rows:
            rows[-1]["tax"] = str(Decimal(rows[-1]["tax"]) + drift)
    return rows


def _entry(invoice: Invoice, number: str, net: Decimal, tax: Decimal, date: dt.date):
    accounts = posting.accounts()
    postings = policy_for(invoice.customer).posting_accounts
    cid, cur = invoice.customer_id, invoice.currency
    lines = [posting.LineSpec(accounts[postings[Posting.INCOME]], cur, debit=net, customer_id=cid)]
    if tax:
        lines.append(
            posting.LineSpec(accounts[postings[Posting.TAX]], cur, debit=tax, customer_id=cid)
        )
    lines.append(
        posting.LineSpec(accounts[postings[Posting.CHARGE]], cur, credit=net + tax, customer_id=cid)
    )
    return posting.EntrySpec(
        period=period_of(date),
        date=date,
        kind=EntryKind.CREDIT_NOTE,
        memo=f"Credit note {number} for invoice {invoice.number}",
        customer_id=cid,
        customer=invoice.customer,
        lines=lines,
        # reversed at the invoice's rate: the receivable clears in the base currency too
        rates={invoice.currency: invoice.exchange_rate} if invoice.base_currency else {},
    )


def visible_credit_notes(user, **filters):
    """The credit notes ``user`` may see: staff all, a customer user its own customer's."""
    return (
        CreditNote.objects.visible_to(user)
        .filter(**filters)
        .select_related("invoice", "customer")
        .order_by("-issue_date", "-pk")
    )
