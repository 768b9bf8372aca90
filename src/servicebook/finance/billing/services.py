"""Every write of billing: validated, permission-checked, audited, atomic.

The period close (R1, R2, R3), payments in cash or in kind, reminders, suspension for
non-payment (R16).
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.db import OperationalError, transaction
from django.utils import timezone

from servicebook.agreements.orders import services as orders
from servicebook.core.errors import DomainError
from servicebook.core.idempotency import checked_key, earlier_write
from servicebook.core.models import User
from servicebook.core.money import round_money, to_decimal
from servicebook.core.periods import period_dates, period_of
from servicebook.core.services import require_role, save_validated
from servicebook.finance.billing.models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentKind,
    Reminder,
)
from servicebook.finance.billing.plan import build_plan
from servicebook.finance.billing.workflows import INVOICE
from servicebook.finance.billing.write import write_close
from servicebook.finance.ledger import periods, posting
from servicebook.finance.ledger.models import (
    EntryKind,
    Period,
    PeriodStatus,
)
from servicebook.finance.ledger.periods import (
    check_period,
    open_period_row,
    require_open,
)
from servicebook.finance.ledger.services import FINANCE
from servicebook.finance.ledger.workflows import PERIOD
from servicebook.parties import services as parties
from servicebook.parties.models import Customer, CustomerStatus
from servicebook.policy import LedgerAccount, policy_for

REMINDER_DAYS = (30, 60, 90)
#: how long a close waits for a concurrent close of the same database (SQLite) before giving up
CLOSE_WAIT_SECONDS = 300


# --- period close --------------------------------------------------------------------------------


def close_period(
    *,
    actor: User | None,
    period: str,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress=None,
    earlier_reason: str = "",
) -> dict:
    """Close a month: issue statements and invoices, post them, lock the period.

    A month earlier than one already closed is closed only with ``earlier_reason`` (why its
    documents come after the later month's), written on the period's event. Invoices are issued
    on the first day after the month, or today when the close runs later, so no invoice is ever
    issued with a due date already past (:func:`.plan.build_plan`).

    Idempotent (a closed period is left alone and the answer says so), atomic (one transaction:
    a failure leaves no trace), and safe under concurrency (the period row is locked first: one
    close wins, the other finds the period closed). ``progress(done, total, message)`` hears
    its steps, in percent (background jobs, the CLI).
    """
    require_role(actor, *FINANCE, action="Closing a period")
    check_period(period)
    _, last = period_dates(period)
    if (today or periods.today()) <= last:
        raise DomainError(
            f"period {period} has not ended yet: it can be closed from "
            f"{last + dt.timedelta(days=1):%Y-%m-%d}",
            code="period_not_ended",
            field="period",
        )
    today = today or periods.today()
    started = time.perf_counter()
    existing = Period.objects.filter(period=period).first()
    if existing is not None and existing.is_closed:
        return _already_closed(existing, dry_run=dry_run)
    later = later_closed(period)
    if dry_run:
        plan = build_plan(period, today=today)
        return {
            **plan.summary(),
            "documents": plan.documents_summary(),
            "later_closed": later,
            "changed": False,
            "dry_run": True,
            "message": f"dry run: closing {period} would issue the documents below",
            "seconds": round(time.perf_counter() - started, 3),
        }
    _earlier_note(period, later, earlier_reason)  # refused before any wait or write
    deadline = time.monotonic() + CLOSE_WAIT_SECONDS
    while True:
        try:
            open_period_row(period)
            return _close_locked(
                actor=actor,
                period=period,
                started=started,
                progress=progress or _silent,
                today=today,
                earlier_reason=earlier_reason,
            )
        except OperationalError as error:
            # SQLite: another close holds the database for longer than its busy timeout
            if "locked" not in str(error).lower():
                raise
            if time.monotonic() > deadline:
                raise DomainError(
                    f"another close of {period} is running; run it again when it has finished",
                    code="close_running",
                ) from None
            time.sleep(0.5)


def later_closed(period: str) -> str | None:
    """The latest closed month after ``period``, if any (closing ``period`` then needs a reason)."""
    return (
        Period.objects.filter(status=PeriodStatus.CLOSED, period__gt=period)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )


def _earlier_note(period: str, later: str | None, reason: str) -> str:
    """The event note of a close behind a later closed month; refused without a reason."""
    if later is None:
        return ""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            f"{later} is already closed: closing the earlier month {period} issues documents "
            "after the later month's, so it needs a confirmation with a reason",
            code="earlier_than_closed",
            field="earlier_reason",
        )
    return f"; closed after {later}: {reason}"


def _silent(done: int, total: int | None = None, message: str = "") -> None:
    """The progress callback of a caller that does not listen."""


@transaction.atomic
def _close_locked(
    *, actor, period: str, started: float, progress, today: dt.date, earlier_reason: str = ""
) -> dict:
    # Take the period's row first (a write: SQLite serializes writers, PostgreSQL locks the row)
    progress(10, 100, f"locking {period}")
    Period.objects.filter(period=period).update(updated_at=timezone.now())
    row = Period.objects.select_for_update().get(period=period)
    if row.is_closed:
        return _already_closed(row, dry_run=False)
    earlier_note = _earlier_note(period, later_closed(period), earlier_reason)  # under the lock
    progress(20, 100, "rating usage, issuing the statements and invoices and posting them")
    summary = write_close(period, today=today, actor=actor, progress=progress)
    progress(90, 100, "locking the period")
    row.closed_at = timezone.now()
    row.closed_by = actor
    row.summary = summary
    PERIOD.move(
        row,
        PeriodStatus.CLOSED,
        actor=actor,
        action="closed",
        note=f"{summary['statements']} statements, {summary['invoices']} invoices, "
        f"{summary['entries']} journal entries{earlier_note}"[:2000],
    )
    # R19: the closed month's consumption at cost is now known; a month over the funding
    # commitment is a breach, detected here by the system (recorded once per month)
    breaches = parties.detect_funding_breaches(actor=None, on=period_dates(period)[0])
    # issue 15: orders approved by the customers' approvers take effect from the next period
    applied = orders.apply_due_orders(actor=actor, on=period_dates(period)[1] + dt.timedelta(1))
    return {
        **summary,
        "commitment_breaches": len(breaches),
        "orders_applied": len(applied),
        "changed": True,
        "dry_run": False,
        "message": f"closed {period}",
        "seconds": round(time.perf_counter() - started, 3),
    }


def _already_closed(row: Period, *, dry_run: bool) -> dict:
    return {
        **row.summary,
        "period": row.period,
        "changed": False,
        "dry_run": dry_run,
        "message": f"period {row.period} was already closed on "
        f"{row.closed_at:%Y-%m-%d %H:%M}; nothing changed",
    }


# --- payments, reminders, suspension (R3, R16) ---------------------------------------------------


@transaction.atomic
def record_payment(
    *,
    actor: User | None,
    invoice: Invoice,
    kind: str,
    amount: Decimal | str,
    date: dt.date | None = None,
    reference: str = "",
    request_key: str | None = None,
) -> Payment:
    """Record cash received, or goods and services delivered in kind (e.g. air tickets).

    ``request_key`` names the submission (:mod:`servicebook.core.idempotency`): the same key
    again returns the payment it recorded, marked ``repeated``, instead of recording another.
    """
    require_role(actor, *FINANCE, action="Recording a payment")
    request_key = checked_key(request_key)
    invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
    earlier = earlier_write(
        Payment.objects,
        request_key,
        same={"invoice_id": invoice.pk},
        elsewhere="on another invoice",
        label=lambda payment: f"a payment of {payment.currency} {payment.amount}",
    )
    if earlier is not None:
        return earlier
    date = date or periods.today()
    amount = _checked_payment(invoice, kind, to_decimal(amount), date)
    period = period_of(date)
    require_open(period)
    (entry,) = posting.post([_payment_entry(invoice, kind, amount, date, reference)], actor=actor)
    payment = Payment(
        invoice=invoice,
        kind=kind,
        amount=amount,
        currency=invoice.currency,
        date=date,
        reference=reference,
        entry=entry,
        request_key=request_key,
    )
    save_validated(payment)
    payment.repeated = False
    if kind == PaymentKind.CASH:
        invoice.paid_cash += amount
    else:
        invoice.delivered_in_kind += amount
    INVOICE.move(
        invoice,
        InvoiceStatus.PAID if invoice.outstanding == 0 else InvoiceStatus.PARTIALLY_PAID,
        actor=actor,
        action="payment" if kind == "cash" else "in_kind_delivery",
        note=f"{invoice.currency} {amount} {reference}".strip(),
    )
    return payment


def _checked_payment(invoice: Invoice, kind: str, amount: Decimal, date: dt.date) -> Decimal:
    """The amount, once the payment is known to fit the invoice (kind, minor units, the
    outstanding part, the date)."""
    if kind not in PaymentKind.values:
        raise DomainError(f"unknown payment kind {kind!r}", field="kind")
    if amount <= 0 or round_money(amount, invoice.currency) != amount:
        raise DomainError(
            f"the amount must be positive, in whole minor units of {invoice.currency}",
            field="amount",
        )
    amount = round_money(amount, invoice.currency)
    if kind == PaymentKind.IN_KIND and not policy_for(invoice.customer).accepts_in_kind:
        raise DomainError("this customer does not settle in kind", field="kind")
    outstanding = invoice.outstanding_cash if kind == "cash" else invoice.outstanding_in_kind
    if amount > outstanding:
        part = "cash" if kind == "cash" else "in-kind"
        raise DomainError(
            f"{amount} exceeds the outstanding {part} part ({outstanding})", field="amount"
        )
    if date < invoice.issue_date:
        raise DomainError("a payment cannot predate the invoice", field="date")
    return amount


def _payment_entry(invoice: Invoice, kind: str, amount, date, reference: str):
    """Cash: Dr bank / Cr receivables; in kind: Dr goods received / Cr in-kind receivable."""
    accounts = posting.accounts()
    debit, credit = (
        (LedgerAccount.CASH, LedgerAccount.RECEIVABLE)
        if kind == "cash"
        else (LedgerAccount.IN_KIND_RECEIVED, LedgerAccount.IN_KIND_RECEIVABLE)
    )
    return posting.EntrySpec(
        period=period_of(date),
        date=date,
        kind=EntryKind.PAYMENT,
        memo=f"{'Payment' if kind == 'cash' else 'In-kind delivery'} for {invoice.number}"
        + (f" ({reference})" if reference else ""),
        customer_id=invoice.customer_id,
        customer=invoice.customer,
        # settled at the invoice's rate: the receivable clears in the base currency too
        rates={invoice.currency: invoice.exchange_rate} if invoice.base_currency else {},
        lines=[
            posting.LineSpec(
                accounts[debit], invoice.currency, debit=amount, customer_id=invoice.customer_id
            ),
            posting.LineSpec(
                accounts[credit], invoice.currency, credit=amount, customer_id=invoice.customer_id
            ),
        ],
    )


@transaction.atomic
def send_reminders(*, actor: User | None, today: dt.date | None = None) -> list[Reminder]:
    """Age overdue invoices into reminders: level 1, 2, 3 at 30, 60, 90 days overdue (once each)."""
    require_role(actor, *FINANCE, action="Sending payment reminders")
    today = today or periods.today()
    sent = []
    overdue = Invoice.objects.exclude(status=InvoiceStatus.PAID).filter(
        due_date__lte=today - dt.timedelta(days=REMINDER_DAYS[0])
    )
    have = set(Reminder.objects.filter(invoice__in=overdue).values_list("invoice_id", "level"))
    for invoice in overdue:
        days = invoice.days_overdue(today)
        level = sum(1 for limit in REMINDER_DAYS if days >= limit)
        if level and (invoice.pk, level) not in have:
            reminder = Reminder(
                invoice=invoice,
                level=level,
                days_overdue=days,
                outstanding=invoice.outstanding,
                sent_on=today,
            )
            save_validated(reminder)
            INVOICE.record(
                invoice,
                actor,
                "reminder",
                note=f"level {level}: {days} days overdue, "
                f"{invoice.currency} {invoice.outstanding} outstanding",
            )
            sent.append(reminder)
    return sent


@transaction.atomic
def suspend_for_non_payment(
    *, actor: User | None, customer: Customer, note: str = "", today: dt.date | None = None
) -> Customer:
    """Suspend a customer that does not pay; the customer's lifecycle records why."""
    require_role(actor, *FINANCE, action="Suspending a customer for non-payment")
    today = today or periods.today()
    overdue = [
        inv
        for inv in Invoice.objects.filter(customer=customer).exclude(status=InvoiceStatus.PAID)
        if inv.days_overdue(today) > 0
    ]
    if not overdue:
        raise DomainError(
            f"{customer} has no overdue invoice: suspension for non-payment needs one",
            code="nothing_overdue",
        )
    numbers = ", ".join(inv.number for inv in overdue)
    customer = parties.change_customer_status(
        actor=actor,
        customer=customer,
        to_status=CustomerStatus.SUSPENDED,
        reason="non_payment",
        note=(note or f"overdue: {numbers}")[:500],
    )
    for inv in overdue:
        INVOICE.record(inv, actor, "customer_suspended", reason="non_payment", note=note)
    return customer


# --- price floor (R6) ----------------------------------------------------------------------------


# --- cost pools and allocation (R4) --------------------------------------------------------------


# --- usage at scale: the usage store, FOCUS bills and their allocation ---------------------------
