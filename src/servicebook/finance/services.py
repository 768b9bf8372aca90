"""Every write of the finance app: validated, permission-checked, audited, atomic.

Period close, adjustments, payments, reminders, suspension for non-payment (R16), cost pools and
allocation (R4), and the price floor of commercial contracts (R6).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.money import round_money, to_decimal
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.finance import close
from servicebook.finance.ledger import periods, posting
from servicebook.finance.ledger.models import (
    EntryKind,
    Period,
    PeriodEvent,
    PeriodStatus,
)
from servicebook.finance.ledger.periods import (
    check_period,
    closed_periods,
    open_period_row,
    period_dates,
    period_of,
    require_open,
)
from servicebook.finance.ledger.services import FINANCE
from servicebook.finance.models import (
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    Payment,
    PaymentKind,
    Reminder,
)
from servicebook.parties import services as parties
from servicebook.parties.models import Customer, CustomerStatus, Provider
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
) -> dict:
    """Close a month: issue statements and invoices, post them, lock the period (R1, R2, R3).

    Idempotent (a closed period is left alone and the answer says so), atomic (one transaction:
    a failure leaves no trace), and safe under concurrency (the period row is locked first: one
    close wins, the other finds the period closed).
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
    started = time.perf_counter()
    existing = Period.objects.filter(period=period).first()
    if existing is not None and existing.is_closed:
        return _already_closed(existing, dry_run=dry_run)
    if dry_run:
        plan = close.build_plan(period)
        return {
            **plan.summary(),
            "changed": False,
            "dry_run": True,
            "message": f"dry run: closing {period} would issue the documents below",
            "seconds": round(time.perf_counter() - started, 3),
        }
    deadline = time.monotonic() + CLOSE_WAIT_SECONDS
    while True:
        try:
            open_period_row(period)
            return _close_locked(actor=actor, period=period, started=started)
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


@transaction.atomic
def _close_locked(*, actor, period: str, started: float) -> dict:
    # Take the period's row first (a write: SQLite serializes writers, PostgreSQL locks the row)
    Period.objects.filter(period=period).update(updated_at=timezone.now())
    row = Period.objects.select_for_update().get(period=period)
    if row.is_closed:
        return _already_closed(row, dry_run=False)
    plan = close.build_plan(period)
    if plan.problems:
        raise DomainError(
            f"cannot close {period}: " + "; ".join(plan.problems[:5]), code="close_refused"
        )
    written = close.write_plan(plan, actor=actor)
    summary = {**plan.summary(), **written}
    row.status = PeriodStatus.CLOSED
    row.closed_at = timezone.now()
    row.closed_by = actor
    row.summary = summary
    save_validated(row)
    PeriodEvent.objects.create(
        period=row,
        actor=actor,
        action="closed",
        from_state=PeriodStatus.OPEN,
        to_state=PeriodStatus.CLOSED,
        note=f"{summary['statements']} statements, {summary['invoices']} invoices, "
        f"{written['entries']} journal entries",
    )
    # R19: the closed month's consumption at cost is now known; a month over the funding
    # commitment is a breach, detected here by the system (recorded once per month)
    breaches = parties.detect_funding_breaches(actor=None, on=period_dates(period)[0])
    return {
        **summary,
        "commitment_breaches": len(breaches),
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


# --- adjustments ---------------------------------------------------------------------------------


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
) -> Payment:
    """Record cash received, or goods and services delivered in kind (e.g. air tickets)."""
    require_role(actor, *FINANCE, action="Recording a payment")
    invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
    amount = to_decimal(amount)
    date = date or periods.today()
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
    period = period_of(date)
    require_open(period)
    accounts = posting.accounts()
    debit, credit = (
        (LedgerAccount.CASH, LedgerAccount.RECEIVABLE)
        if kind == "cash"
        else (LedgerAccount.IN_KIND_RECEIVED, LedgerAccount.IN_KIND_RECEIVABLE)
    )
    spec = posting.EntrySpec(
        period=period,
        date=date,
        kind=EntryKind.PAYMENT,
        memo=f"{'Payment' if kind == 'cash' else 'In-kind delivery'} for {invoice.number}"
        + (f" ({reference})" if reference else ""),
        customer_id=invoice.customer_id,
        customer=invoice.customer,
        lines=[
            posting.LineSpec(
                accounts[debit], invoice.currency, debit=amount, customer_id=invoice.customer_id
            ),
            posting.LineSpec(
                accounts[credit], invoice.currency, credit=amount, customer_id=invoice.customer_id
            ),
        ],
    )
    (entry,) = posting.post([spec], actor=actor)
    payment = Payment(
        invoice=invoice,
        kind=kind,
        amount=amount,
        currency=invoice.currency,
        date=date,
        reference=reference,
        entry=entry,
    )
    save_validated(payment)
    from_status = invoice.status
    if kind == PaymentKind.CASH:
        invoice.paid_cash += amount
    else:
        invoice.delivered_in_kind += amount
    invoice.status = (
        InvoiceStatus.PAID if invoice.outstanding == 0 else InvoiceStatus.PARTIALLY_PAID
    )
    save_validated(invoice)
    InvoiceEvent.objects.create(
        invoice=invoice,
        actor=actor,
        action="payment" if kind == "cash" else "in_kind_delivery",
        from_state=from_status,
        to_state=invoice.status,
        note=f"{invoice.currency} {amount} {reference}".strip(),
    )
    return payment


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
            InvoiceEvent.objects.create(
                invoice=invoice,
                actor=actor,
                action="reminder",
                note=f"level {level}: {days} days overdue, "
                f"{invoice.currency} {invoice.outstanding} outstanding",
            )
            sent.append(reminder)
    return sent


@transaction.atomic
def suspend_for_non_payment(
    *, actor: User | None, customer: Customer, note: str = "", today: dt.date | None = None
) -> Customer:
    """Suspend a customer that does not pay (R16); the customer's lifecycle records why."""
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
        InvoiceEvent.objects.create(
            invoice=inv, actor=actor, action="customer_suspended", reason="non_payment", note=note
        )
    return customer


# --- price floor (R6) ----------------------------------------------------------------------------


# --- cost pools and allocation (R4) --------------------------------------------------------------


# --- usage at scale: the usage store, FOCUS bills and their allocation ---------------------------

#: who may import usage and edit the cloud allocation rules
USAGE_EDITORS = (Role.FINANCE, Role.PROVIDER_ADMIN)
#: the offering cloud cost appears under on statements, unless an import names another
DEFAULT_FOCUS_OFFERING = "public-cloud"


def usage_store():
    """The usage store at ``SERVICEBOOK_USAGE_DIR`` (default ``var/usage/``)."""
    from servicebook.finance.usage_store import UsageStore

    return UsageStore(settings.SERVICEBOOK_USAGE_DIR)


def focus_offering_code() -> str:
    """Setting ``SERVICEBOOK_FOCUS_OFFERING`` (or the environment), default ``public-cloud``."""
    return (
        getattr(settings, "SERVICEBOOK_FOCUS_OFFERING", None)
        or os.environ.get("SERVICEBOOK_FOCUS_OFFERING")
        or DEFAULT_FOCUS_OFFERING
    )


def cloud_rules():
    """The allocation rules of the database as :class:`focus.AllocationRules` (key: customer pk)."""
    from servicebook.finance.focus import AllocationRules
    from servicebook.finance.models import AllocationKey, CloudMapping

    resources: dict[str, str | None] = {}
    tags: dict[str, dict[str, str | None]] = {}
    sub_accounts: dict[str, str | None] = {}
    for m in CloudMapping.objects.order_by("tag_key", "value"):
        target = str(m.customer_id) if m.customer_id else None
        if m.key == AllocationKey.RESOURCE:
            resources[m.value] = target
        elif m.key == AllocationKey.TAG:
            tags.setdefault(m.tag_key, {})[m.value] = target
        else:
            sub_accounts[m.value] = target
    return AllocationRules(resources=resources, tags=tags, sub_accounts=sub_accounts)


@transaction.atomic
def set_cloud_mapping(
    *,
    actor: User | None,
    key: str,
    value: str,
    customer: Customer | None,
    tag_key: str = "",
    note: str = "",
    mapping=None,
):
    """Record the rule sending the cloud cost of a resource, tag value or sub-account to a
    customer (``None``: the shared pool); the same key again replaces its customer. Given a
    ``mapping``, change that rule instead."""
    from servicebook.finance.models import CloudMapping

    require_role(actor, *USAGE_EDITORS, action="Changing cloud cost allocation")
    value, tag_key = (value or "").strip(), (tag_key or "").strip()
    if mapping is None:
        mapping = CloudMapping.objects.filter(key=key, tag_key=tag_key, value=value).first()
    if mapping is None:
        mapping = CloudMapping()
    mapping.key, mapping.tag_key, mapping.value = key, tag_key, value
    mapping.customer = customer
    mapping.note = note
    save_validated(mapping)
    return mapping


@transaction.atomic
def delete_cloud_mapping(*, actor: User | None, mapping) -> None:
    require_role(actor, *USAGE_EDITORS, action="Changing cloud cost allocation")
    mapping.delete()


def _store_keys() -> tuple[dict, dict, dict]:
    """Customers (code or id → pk), their billing currency, offerings (code/id → (pk, unit))."""
    from servicebook.finance.usage_store import Offering as StoreOffering

    customers: dict[str, int] = {}
    currencies: dict[str, str] = {}
    for customer in Customer.objects.select_related("provider"):
        currency = policy_for(customer).billing_currency(customer)
        for key in (str(customer.pk), customer.code):
            customers[key] = customer.pk
            currencies[key] = currency
    offerings: dict[str, StoreOffering] = {}
    for pk, code, unit in Offering.objects.values_list("pk", "code", "unit"):
        offerings[str(pk)] = offerings[code] = StoreOffering(pk, unit)
    return customers, currencies, offerings


def _summary_dict(record, summary, *, already: bool) -> dict:
    data = {
        "id": record.pk,
        "format": record.format,
        "file": record.filename,
        "file_hash": record.file_hash,
        "already_imported": already,
        "periods": record.periods,
        "rows_read": record.rows_read,
        "rows_imported": 0 if already else record.rows_imported,
        "rows_skipped_duplicate": record.rows_read - record.rows_rejected
        if already
        else record.rows_skipped_duplicate,
        "rows_rejected": record.rows_rejected,
        "totals": record.cost_totals,
        "quantity_totals": record.quantity_totals,
        "rejects": record.rejects_path or None,
    }
    if record.format == "focus":
        data["cost_basis"] = record.cost_basis
        data["shared_mode"] = record.shared_mode
        data["effective_totals"] = record.report.get("effective_totals", {})
        data["allocation"] = allocation_totals(record)
    return data


def allocation_totals(record) -> dict:
    """Per month, the allocated, shared and unallocated parts of the charged cost column."""
    out = {}
    for month, columns in sorted(record.report.get("allocation", {}).items()):
        report = columns.get(record.cost_basis, {})
        out[month] = {
            "total": report.get("total", "0"),
            "allocated": report.get("allocated_total", "0"),
            "shared": report.get("shared", "0"),
            "unallocated": report.get("unallocated", "0"),
        }
    return out


@transaction.atomic
def import_usage(
    *,
    actor: User | None,
    path,
    format: str,
    filename: str = "",
    period: str | None = None,
    source: str = "",
    cost_basis: str = "EffectiveCost",
    shared_mode: str = "separate",
    exchange_rate: Decimal | str | None = None,
    offering: Offering | None = None,
) -> tuple[object, dict]:
    """Import a usage file into the usage store and record it (R4, R5, R6 at scale).

    ``format`` ``csv``: metered usage records (CSV or Parquet; see docs/usage.md for the
    columns), validated row by row against the customers and offerings; a bad row goes to the
    rejects file with its reason and nothing else stops. ``focus``: a FOCUS cloud bill, each row
    allocated by the cloud mappings, its ``cost_basis`` column charged to the customers' statements
    of the bill's month (converted at ``exchange_rate`` when the bill is not in the provider's
    currency); the untagged pool is reported separately or spread (``shared_mode``).
    The same file imported again changes nothing. Returns the import row and a summary.
    """
    from pathlib import Path

    import pyarrow as pa

    from servicebook.finance import focus
    from servicebook.finance.models import (
        CloudCharge,
        CostBasis,
        SharedCostMode,
        UsageFormat,
        UsageImport,
        UsageImportEvent,
    )

    require_role(actor, *USAGE_EDITORS, action="Importing usage")
    if format not in UsageFormat.values:
        raise DomainError(f"format must be csv or focus, not {format!r}", field="format")
    if period:
        check_period(period)
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"{path}: no such file", field="file")
    filename = filename or path.name
    store = usage_store()
    closed = closed_periods()
    provider = Provider.current()
    rate = None
    billing_currency = ""
    if format == UsageFormat.FOCUS:
        if cost_basis not in CostBasis.values:
            raise DomainError(
                f"cost basis must be EffectiveCost or BilledCost, not {cost_basis!r}",
                field="cost_basis",
            )
        if shared_mode not in SharedCostMode.values:
            raise DomainError(
                f"shared mode must be separate or spread, not {shared_mode!r}", field="shared_mode"
            )
        if offering is None:
            code = focus_offering_code()
            offering = Offering.objects.filter(code=code).first()
            if offering is None:
                raise DomainError(
                    f"no offering {code!r} to charge cloud cost under: create it in the catalog"
                    " or choose an offering",
                    field="offering",
                )
        try:
            billing_currency = focus.bill_currency(path) or ""
        except (focus.FocusFormatError, pa.ArrowInvalid, OSError, UnicodeDecodeError) as error:
            raise DomainError(f"{filename}: {error}", field="file") from None
        statement_currency = provider.base_currency
        if exchange_rate not in (None, ""):
            rate = to_decimal(exchange_rate, field="exchange_rate")
            if rate <= 0:
                raise DomainError("the exchange rate must be positive", field="exchange_rate")
        if billing_currency and billing_currency != statement_currency:
            if rate is None:
                raise DomainError(
                    f"the bill is in {billing_currency} and statements are in "
                    f"{statement_currency}: give the exchange rate ({billing_currency} → "
                    f"{statement_currency})",
                    field="exchange_rate",
                    code="exchange_rate_needed",
                )
        elif rate is not None and rate != 1:
            raise DomainError(
                f"the bill is already in {statement_currency}: no exchange rate applies",
                field="exchange_rate",
            )
        try:
            summary = focus.import_focus(
                store,
                path,
                rules=cloud_rules(),
                spread_shared=shared_mode == SharedCostMode.SPREAD,
                billing_currency=billing_currency or None,
                period=period or None,
                closed_periods=closed,
                source=source or "focus",
            )
        except (ValueError, pa.ArrowInvalid, OSError, UnicodeDecodeError) as error:
            raise DomainError(f"{filename}: {error}", field="file") from None
    else:
        customers, currencies, offerings = _store_keys()
        try:
            summary = store.import_file(
                path,
                source=source or "csv",
                customers=customers,
                offerings=offerings,
                period=period or None,
                customer_currencies=currencies,
                closed_periods=closed,
            )
        except (ValueError, pa.ArrowInvalid, OSError, UnicodeDecodeError) as error:
            raise DomainError(f"{filename}: {error}", field="file") from None
    already = summary.already_imported
    record = UsageImport.objects.filter(file_hash=summary.file_hash).first()
    if record is not None:
        return record, _summary_dict(record, summary, already=True)
    entry = store.find(summary.file_hash) if already else summary.to_dict()
    extra = entry.get("extra", {})
    if entry.get("format", "csv") != format:
        raise DomainError(
            f"{filename} was imported before as {entry.get('format', 'csv')}", field="format"
        )
    record = UsageImport(
        file_hash=summary.file_hash,
        format=format,
        filename=filename[:255],
        source=entry["source"][:100],
        period=period or "",
        periods=entry["periods"],
        rows_read=entry["rows_read"],
        rows_imported=entry["rows_imported"],
        rows_skipped_duplicate=entry["rows_skipped_duplicate"],
        rows_rejected=entry["rows_rejected"],
        quantity_totals=entry.get("quantity_totals", {}),
        cost_totals=entry.get("cost_totals", {}),
        rejects_path=entry.get("rejects_path") or "",
        imported_by=actor,
    )
    if format == UsageFormat.FOCUS:
        record.cost_basis = cost_basis
        record.shared_mode = shared_mode
        record.billing_currency = extra.get("billing_currency", billing_currency)
        record.statement_currency = provider.base_currency
        record.exchange_rate = rate
        record.offering = offering
        record.report = {
            "effective_totals": extra.get("effective_totals", {}),
            "allocation": extra.get("allocation", {}),
        }
    save_validated(record)
    UsageImportEvent.objects.create(
        usage_import=record,
        actor=actor,
        action="imported",
        to_state="imported",
        note=(
            f"{record.rows_read} read, {record.rows_imported} imported, "
            f"{record.rows_skipped_duplicate} duplicate, {record.rows_rejected} rejected"
        ),
    )
    if format == UsageFormat.FOCUS:
        charges = []
        customers_by_pk = Customer.objects.in_bulk(
            {
                int(k)
                for columns in record.report["allocation"].values()
                for k in columns.get(cost_basis, {}).get("allocated", {})
            }
        )
        for month, columns in record.report["allocation"].items():
            report = columns.get(cost_basis, {})
            for key, exact in report.get("allocated", {}).items():
                customer = customers_by_pk.get(int(key))
                if customer is None:
                    continue
                value = Decimal(exact)
                currency = record.statement_currency
                charges.append(
                    CloudCharge(
                        usage_import=record,
                        period=month,
                        customer=customer,
                        rows=report.get("rows", {}).get(key, 0),
                        billing_currency=record.billing_currency,
                        exact=exact,
                        direct=report.get("direct", {}).get(key, "0"),
                        spread=report.get("spread", {}).get(key, "0"),
                        currency=currency,
                        amount=round_money(value * (rate or Decimal(1)), currency),
                    )
                )
        CloudCharge.objects.bulk_create(charges)
    return record, _summary_dict(record, summary, already=already)
