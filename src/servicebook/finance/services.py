"""Every write of the finance app: validated, permission-checked, audited, atomic.

Period close, adjustments, payments, reminders, suspension for non-payment (R16), cost pools and
allocation (R4), and the price floor of commercial contracts (R6).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.catalog.models import Offering, Service
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.money import round_money, to_decimal, validate_currency
from servicebook.core.roles import Role
from servicebook.core.services import require_role, save_validated
from servicebook.finance import allocation, close, ledger
from servicebook.finance.models import (
    PERIOD_RE,
    Account,
    AllocationRule,
    AllocationShare,
    CostCategory,
    CostPool,
    Driver,
    DriverValue,
    EntryKind,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    JournalEntry,
    Payment,
    PaymentKind,
    Period,
    PeriodEvent,
    PeriodStatus,
    PriceFloorOverride,
    Reminder,
    ServiceCost,
    UnitCost,
)
from servicebook.parties import services as parties
from servicebook.parties.models import Customer, CustomerStatus, Provider
from servicebook.policy import LedgerAccount, policy_for

FINANCE = (Role.FINANCE,)
#: who may record costs, allocation rules and driver values
COST_EDITORS = (Role.FINANCE, Role.PROVIDER_ADMIN)
REMINDER_DAYS = (30, 60, 90)
#: how long a close waits for a concurrent close of the same database (SQLite) before giving up
CLOSE_WAIT_SECONDS = 300


def check_period(period: str) -> str:
    if not isinstance(period, str) or not PERIOD_RE.match(period):
        raise DomainError(f"{period!r} is not a period: use YYYY-MM, e.g. 2026-10", field="period")
    return period


def period_of(date: dt.date) -> str:
    return f"{date.year:04d}-{date.month:02d}"


def _today() -> dt.date:
    return timezone.localdate()


def _open_period_row(period: str) -> Period:
    """The period's row, created open if missing (concurrent creators: one row).

    The insert comes first (ON CONFLICT DO NOTHING): on SQLite a transaction that starts with a
    write waits for the other writer instead of failing on a read-to-write upgrade.
    """
    with transaction.atomic():
        Period.objects.bulk_create([Period(period=period)], ignore_conflicts=True)
    return Period.objects.get(period=period)


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
    _, last = close.period_dates(period)
    if (today or _today()) <= last:
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
            _open_period_row(period)
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
    breaches = parties.detect_funding_breaches(actor=None, on=close.period_dates(period)[0])
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


@transaction.atomic
def post_adjustment(
    *,
    actor: User | None,
    period: str,
    memo: str,
    lines: list[dict],
    date: dt.date | None = None,
    customer: Customer | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post a correction as a new balanced entry in an open period.

    ``lines``: ``{"account": Account or code, "debit"|"credit": amount, "currency": code}``.
    The accounts must be ones the customer's policy allows (R2): an internal customer's entry
    never touches revenue or receivables, and no entry mixes a cost centre with revenue.
    """
    require_role(actor, *FINANCE, action="Posting an adjustment")
    check_period(period)
    if not memo.strip():
        raise DomainError("an adjustment needs a memo saying why", field="memo")
    ledger.require_open(period)
    _open_period_row(period)
    Period.objects.filter(period=period).update(updated_at=timezone.now())
    ledger.require_open(period)  # re-read after taking the row: a close may just have won
    first, last = close.period_dates(period)
    date = date or min(max(_today(), first), last)
    if period_of(date) != period:
        raise DomainError(f"the date {date} is not in {period}", field="date")
    specs = []
    for line in lines:
        account = line["account"]
        if not isinstance(account, Account):
            account = Account.objects.filter(code=account).first()
            if account is None:
                raise DomainError(f"unknown account {line['account']!r}", field="lines")
        currency = validate_currency(line.get("currency", "EUR"))
        specs.append(
            ledger.LineSpec(
                account=account,
                currency=currency,
                debit=to_decimal(line.get("debit", "0")),
                credit=to_decimal(line.get("credit", "0")),
                customer_id=customer.pk if customer else None,
                memo=line.get("memo", ""),
            )
        )
    spec = ledger.EntrySpec(
        period=period,
        date=date,
        kind=EntryKind.ADJUSTMENT,
        memo=memo,
        lines=specs,
        customer_id=customer.pk if customer else None,
        reverses_id=reverses.pk if reverses else None,
        customer=customer,
    )
    (entry,) = ledger.post([spec], actor=actor)
    row = Period.objects.get(period=period)
    PeriodEvent.objects.create(
        period=row, actor=actor, action="adjustment", note=f"{entry.number}: {memo}"[:500]
    )
    return entry


def reverse_entry(
    *, actor: User | None, entry: JournalEntry, period: str, reason: str
) -> JournalEntry:
    """Post the mirror image of ``entry`` (debits ↔ credits) in an open period."""
    lines = [
        {
            "account": line.account,
            "debit": str(line.credit),
            "credit": str(line.debit),
            "currency": line.currency,
        }
        for line in entry.lines.select_related("account")
    ]
    return post_adjustment(
        actor=actor,
        period=period,
        memo=f"Reversal of {entry.number}: {reason}",
        lines=lines,
        customer=entry.customer,
        reverses=entry,
    )


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
    date = date or _today()
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
    ledger.require_open(period)
    accounts = ledger.accounts()
    debit, credit = (
        (LedgerAccount.CASH, LedgerAccount.RECEIVABLE)
        if kind == "cash"
        else (LedgerAccount.IN_KIND_RECEIVED, LedgerAccount.IN_KIND_RECEIVABLE)
    )
    spec = ledger.EntrySpec(
        period=period,
        date=date,
        kind=EntryKind.PAYMENT,
        memo=f"{'Payment' if kind == 'cash' else 'In-kind delivery'} for {invoice.number}"
        + (f" ({reference})" if reference else ""),
        customer_id=invoice.customer_id,
        customer=invoice.customer,
        lines=[
            ledger.LineSpec(
                accounts[debit], invoice.currency, debit=amount, customer_id=invoice.customer_id
            ),
            ledger.LineSpec(
                accounts[credit], invoice.currency, credit=amount, customer_id=invoice.customer_id
            ),
        ],
    )
    (entry,) = ledger.post([spec], actor=actor)
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
    today = today or _today()
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
    today = today or _today()
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


def current_unit_cost(offering: Offering) -> Decimal | None:
    """The latest computed unit cost of an offering, else its standard unit cost."""
    return unit_cost_with_currency(offering)[0]


def unit_cost_with_currency(offering: Offering) -> tuple[Decimal | None, str]:
    """The latest computed unit cost of an offering (in its period's currency), else its
    standard unit cost (in the offering's currency)."""
    latest = (
        UnitCost.objects.filter(offering=offering)
        .order_by("-period")
        .values("unit_cost", "currency")
        .first()
    )
    if latest:
        return latest["unit_cost"], latest["currency"]
    return offering.standard_unit_cost, offering.currency


def check_price_floor(agreement: Agreement) -> list[str]:
    """R6: why a commercial provider's contract cannot be activated (empty list: it can).

    A line whose monthly price is below its monthly cost blocks activation unless a finance user
    recorded an override with a reason. A line whose cost is in another currency than the
    contract cannot be compared without an exchange rate: it blocks activation too, naming both
    currencies (an override accepts it). Internal agreements (charged at cost) and
    non-commercial providers (who may cover cost partly) are not checked. Messages are for
    provider staff only.
    """
    policy = policy_for(agreement.customer)
    provider = agreement.customer.provider
    if policy.charge_basis != "price" or provider.sector != "commercial":
        return []
    overridden = set(
        PriceFloorOverride.objects.filter(agreement=agreement).values_list("offering_id", flat=True)
    )
    problems = []
    for line in agreement.lines.select_related("offering__service").prefetch_related(
        "offering__tiers"
    ):
        unit_cost, cost_currency = unit_cost_with_currency(line.offering)
        if unit_cost is None or line.offering_id in overridden:
            continue
        if cost_currency != agreement.currency:
            problems.append(
                f"{line.offering}: its cost is in {cost_currency} and the contract is priced in "
                f"{agreement.currency}: the price floor cannot be checked without an exchange "
                f"rate (none is recorded); a finance user must record an override"
            )
            continue
        cost = round_money(line.quantity * unit_cost, agreement.currency)
        price = line.monthly_price()
        if price < cost:
            problems.append(
                f"{line.offering}: priced {agreement.currency} {price} a month, below its cost "
                f"{agreement.currency} {cost}; a finance user must record an override"
            )
    return problems


@transaction.atomic
def record_price_override(
    *, actor: User | None, agreement: Agreement, offering: Offering, reason: str
) -> PriceFloorOverride:
    """A finance user accepts a contract line priced below cost, saying why (R6)."""
    require_role(actor, *FINANCE, action="Overriding the price floor")
    if not reason or not reason.strip():
        raise DomainError("an override needs a reason", field="reason")
    if not AgreementLine.objects.filter(agreement=agreement, offering=offering).exists():
        raise DomainError("the contract has no line for this offering", field="offering")
    override = PriceFloorOverride(
        agreement=agreement, offering=offering, reason=reason.strip(), recorded_by=actor
    )
    save_validated(override)
    from servicebook.agreements.models import AgreementEvent

    AgreementEvent.objects.create(
        agreement=agreement,
        actor=actor,
        action="price_override",
        note=f"{offering.code} may be priced below cost: {reason.strip()}"[:500],
    )
    return override


# --- cost pools and allocation (R4) --------------------------------------------------------------


def _require_costs_open(period: str) -> None:
    if Period.objects.filter(period=period, status=PeriodStatus.CLOSED).exists():
        raise DomainError(
            f"period {period} is closed: its costs can no longer change", code="period_closed"
        )


@transaction.atomic
def set_cost_pool(
    *,
    actor: User | None,
    period: str,
    category: str,
    name: str,
    amount: Decimal | str,
    currency: str | None = None,
    source: str = "ui",
) -> CostPool:
    """Record (or replace) the amount of one cost pool in one period."""
    require_role(actor, *COST_EDITORS, action="Recording a cost pool")
    check_period(period)
    _require_costs_open(period)
    amount = to_decimal(amount)
    currency = currency or Provider.current().base_currency
    pool = CostPool.objects.filter(period=period, category=category, name=name).first()
    pool = pool or CostPool(period=period, category=category, name=name)
    pool.amount = amount
    pool.currency = currency
    pool.source = source
    save_validated(pool)
    return pool


@transaction.atomic
def import_cost_pools(*, actor: User | None, text: str, period: str | None = None) -> dict:
    """Import cost pools from CSV (columns period, category, name, amount[, currency]).

    Rows with an error are rejected with their row number and reason; the others are imported.
    ``read = imported + rejected``, always.
    """
    require_role(actor, *COST_EDITORS, action="Importing cost pools")
    base = Provider.current().base_currency
    reader = csv.DictReader(io.StringIO(text))
    needed = {"category", "name", "amount"} | (set() if period else {"period"})
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise DomainError(f"the CSV lacks the column(s): {', '.join(sorted(missing))}")
    read, imported, rejected = 0, 0, []
    for number, row in enumerate(reader, start=1):
        read += 1
        row_period = (row.get("period") or period or "").strip()
        try:
            if period and row.get("period") and row["period"].strip() != period:
                raise ValueError(f"period {row['period']} is not {period}")
            with transaction.atomic():
                set_cost_pool(
                    actor=actor,
                    period=row_period,
                    category=(row.get("category") or "").strip(),
                    name=(row.get("name") or "").strip(),
                    amount=(row.get("amount") or "").strip(),
                    currency=(row.get("currency") or "").strip() or base,
                    source="csv",
                )
            imported += 1
        except (ValueError, ValidationError, DomainError) as error:
            rejected.append({"row": number, "reason": _reason(error)})
    return {"read": read, "imported": imported, "rejected": len(rejected), "rejects": rejected}


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


@transaction.atomic
def set_allocation_rule(
    *,
    actor: User | None,
    category: str,
    driver: str,
    shares: list[tuple[Service | None, Decimal | str]] | None = None,
    note: str = "",
) -> AllocationRule:
    """Say how a TBM category reaches services: fixed percentages (summing to 100) or a driver."""
    require_role(actor, *COST_EDITORS, action="Setting an allocation rule")
    if category not in CostCategory.values:
        raise DomainError(f"unknown cost category {category!r}", field="category")
    if driver not in Driver.values:
        raise DomainError(f"unknown driver {driver!r}", field="driver")
    shares = [(service, to_decimal(percent)) for service, percent in (shares or [])]
    if driver == Driver.FIXED:
        total = sum((p for _, p in shares), Decimal(0))
        if total != 100:
            raise DomainError(
                f"fixed percentages must sum to 100, these sum to {total}", field="shares"
            )
    elif shares:
        raise DomainError("only a fixed rule has percentages", field="shares")
    rule = AllocationRule.objects.filter(category=category).first() or AllocationRule(
        category=category
    )
    rule.driver = driver
    rule.note = note
    save_validated(rule)
    rule.shares.all().delete()
    for service, percent in shares:
        save_validated(AllocationShare(rule=rule, service=service, percent=percent))
    return rule


@transaction.atomic
def set_driver_values(
    *, actor: User | None, period: str, driver: str, values: dict[Service, Decimal | str]
) -> int:
    """Record a driver's measure per service for a period (headcount, tickets, usage)."""
    require_role(actor, *COST_EDITORS, action="Recording driver values")
    check_period(period)
    if driver == Driver.FIXED or driver not in Driver.values:
        raise DomainError(f"{driver!r} is not a measured driver", field="driver")
    DriverValue.objects.filter(period=period, driver=driver).delete()
    for service, quantity in values.items():
        save_validated(
            DriverValue(
                period=period, driver=driver, service=service, quantity=to_decimal(quantity)
            )
        )
    return len(values)


def idle_capacity_mode() -> str:
    """``separate`` (default) or ``spread``: setting SERVICEBOOK_IDLE_CAPACITY or the env."""
    mode = getattr(settings, "SERVICEBOOK_IDLE_CAPACITY", None) or os.environ.get(
        "SERVICEBOOK_IDLE_CAPACITY", "separate"
    )
    if mode not in ("separate", "spread"):
        raise DomainError(f"SERVICEBOOK_IDLE_CAPACITY must be separate or spread, not {mode!r}")
    return mode


def consumption(period: str) -> dict[int, Decimal]:
    """Units of each offering subscribed under agreements in force during the period."""
    first, last = close.period_dates(period)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    rows = AgreementLine.objects.filter(
        agreement__status=AgreementStatus.ACTIVE,
        agreement__start_date__lte=last,
    ).exclude(agreement__end_date__lt=first)
    for offering_id, quantity in rows.values_list("offering_id", "quantity"):
        totals[offering_id] += quantity
    return totals


@transaction.atomic
def compute_service_costs(*, actor: User | None, period: str) -> dict:
    """Allocate the period's cost pools to services and derive unit costs per offering (R4)."""
    require_role(actor, *COST_EDITORS, action="Computing service costs")
    check_period(period)
    _require_costs_open(period)
    currency = Provider.current().base_currency
    pools = list(CostPool.objects.filter(period=period))
    if not pools:
        raise DomainError(f"no cost pools recorded for {period}", code="no_pools")
    if any(p.currency != currency for p in pools):
        raise DomainError(f"cost pools must be in the base currency {currency}")
    rules = {
        rule.category: (rule.driver, [(s.service_id, s.percent) for s in rule.shares.all()])
        for rule in AllocationRule.objects.prefetch_related("shares")
    }
    drivers: dict[str, dict[int, Decimal]] = defaultdict(dict)
    for value in DriverValue.objects.filter(period=period):
        drivers[value.driver][value.service_id] = value.quantity
    used = consumption(period)
    offerings = {
        o.pk: o for o in Offering.objects.filter(pk__in=list(used)).select_related("service")
    }
    if Driver.USAGE not in drivers:
        for offering_id, quantity in used.items():
            offering = offerings[offering_id]
            weight = quantity * (offering.standard_unit_cost or Decimal(1))
            drivers[Driver.USAGE][offering.service_id] = (
                drivers[Driver.USAGE].get(offering.service_id, Decimal(0)) + weight
            )
    try:
        allocated = allocation.allocate_pools(
            [(p.category, p.amount) for p in pools], rules, drivers, currency
        )
    except allocation.AllocationError as error:
        raise DomainError(str(error), code="allocation") from None
    mode = idle_capacity_mode()
    spread = allocation.spread_idle(allocated, currency) if mode == "spread" else {}
    ServiceCost.objects.filter(period=period).delete()
    UnitCost.objects.filter(period=period).delete()
    service_rows, unit_rows = [], []
    for service_id, parts in allocated.items():
        base = sum(parts.values(), Decimal(0))
        if service_id is None:
            if mode == "spread" and spread:
                continue
            idle = Decimal(0)
        else:
            idle = spread.get(service_id, Decimal(0))
        service_rows.append(
            ServiceCost(
                period=period,
                service_id=service_id,
                allocated=base,
                idle=idle,
                total=base + idle,
                currency=currency,
                breakdown={k: str(v) for k, v in sorted(parts.items())},
            )
        )
        if service_id is None:
            continue
        usage = [
            (o.pk, used[o.pk], o.standard_unit_cost)
            for o in offerings.values()
            if o.service_id == service_id
        ]
        for offering_id, quantity, cost, unit_cost in allocation.unit_costs(
            base + idle, sorted(usage), currency
        ):
            unit_rows.append(
                UnitCost(
                    period=period,
                    offering_id=offering_id,
                    quantity=quantity,
                    cost=cost,
                    unit_cost=unit_cost,
                    currency=currency,
                )
            )
    ServiceCost.objects.bulk_create(service_rows)
    UnitCost.objects.bulk_create(unit_rows)
    row = _open_period_row(period)
    total = sum((p.amount for p in pools), Decimal(0))
    PeriodEvent.objects.create(
        period=row,
        actor=actor,
        action="costs_computed",
        note=f"{len(pools)} pools, {currency} {total}, idle capacity {mode}",
    )
    return {
        "period": period,
        "pools": len(pools),
        "total": str(total),
        "services": len(service_rows),
        "unit_costs": len(unit_rows),
        "idle_capacity": mode,
    }


def services_by_id() -> dict[int, Service]:
    return {s.pk: s for s in Service.objects.all()}


def periods_with_documents() -> list[str]:
    from servicebook.finance.models import Statement

    found = set(Invoice.objects.values_list("period", flat=True).distinct())
    found |= set(Statement.objects.values_list("period", flat=True).distinct())
    return sorted(found, reverse=True)


__all__ = [
    "JournalEntry",
    "check_price_floor",
    "close_period",
    "compute_service_costs",
    "import_cost_pools",
    "post_adjustment",
    "record_payment",
    "record_price_override",
    "reverse_entry",
    "send_reminders",
    "set_allocation_rule",
    "set_cost_pool",
    "set_driver_values",
    "suspend_for_non_payment",
]


# --- usage at scale: the usage store, FOCUS bills and their allocation ---------------------------

#: who may import usage and edit the cloud allocation rules
USAGE_EDITORS = (Role.FINANCE, Role.PROVIDER_ADMIN)
#: the offering cloud cost appears under on statements, unless an import names another
DEFAULT_FOCUS_OFFERING = "public-cloud"


def usage_store():
    """The usage store at ``SERVICEBOOK_USAGE_DIR`` (default ``var/usage/``)."""
    from servicebook.finance.usage_store import UsageStore

    return UsageStore(settings.SERVICEBOOK_USAGE_DIR)


def closed_periods() -> set[str]:
    return set(Period.objects.filter(status=PeriodStatus.CLOSED).values_list("period", flat=True))


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
