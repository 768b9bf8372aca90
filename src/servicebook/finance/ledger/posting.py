"""Posting to the double-entry ledger: the chart of accounts, the checks every entry passes, and
bulk posting (``ledger verify`` checks what was posted: :mod:`.verify`).

Posting rules (R2, R3):

- internal chargeback: Dr *Internal IT charges — <cost centre>* / Cr *IT internal cost recovery*
  (a transfer between the customer's cost centre and IT, never revenue);
- partial recovery: the recovered share as above, the uncovered share Dr *Subsidy* / Cr *IT
  internal cost recovery*;
- external invoice: Dr *Receivables* (cash part), Dr *In-kind receivable* (in-kind part),
  Dr *Service credits* (contra-revenue) / Cr *Service revenue* (gross);
- cash payment: Dr *Bank* / Cr *Receivables*; in-kind delivery: Dr *Goods and services received
  in kind* / Cr *In-kind receivable*.

Lines are positive debits or credits; an entry balances per currency; posted rows never change.
Every line also carries its amount in the provider's base currency and the rate used (decision
0025): each currency's total is converted once at the entry's rate and split over its debit
lines and over its credit lines by largest remainder, so an entry balances in the base currency
too, to the cent. A line in another currency without a rate is refused, naming the pair and date.

Which accounts an entry may use is the customer policy's answer (``policy.ledger_accounts``):
an internal customer's entry uses transfer and subsidy accounts only (never revenue or
receivables), an external customer's entry revenue, receivables and in-kind accounts only; an
entry without a customer may not mix the two (a cost centre's account names its internal
customer). Every posting -- period close, payment, adjustment, reversal -- is checked by
:func:`check_accounts`, and ``ledger verify`` checks every posted entry against the same rule.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from servicebook.core.errors import DomainError
from servicebook.core.money import CURRENCIES, allocate_amount, quantum, round_money
from servicebook.finance.fx.selectors import rate_on
from servicebook.finance.ledger.models import Account, AccountType, JournalEntry, JournalLine
from servicebook.policy import POLICIES, LedgerAccount, policies_allowing_accounts, policy_for

ZERO = Decimal("0.00")


#: purpose → (code, name, type) of the standard accounts.
CHART: dict[str, tuple[str, str, str]] = {
    LedgerAccount.CASH: ("1000", "Bank", AccountType.ASSET),
    LedgerAccount.RECEIVABLE: ("1100", "Trade receivables", AccountType.ASSET),
    LedgerAccount.IN_KIND_RECEIVABLE: ("1150", "In-kind receivable", AccountType.ASSET),
    LedgerAccount.IN_KIND_RECEIVED: (
        "1300",
        "Goods and services received in kind",
        AccountType.ASSET,
    ),
    LedgerAccount.VAT_PAYABLE: ("2200", "VAT payable (output tax)", AccountType.LIABILITY),
    LedgerAccount.REVENUE: ("4000", "Service revenue", AccountType.INCOME),
    LedgerAccount.SERVICE_CREDITS: (
        "4900",
        "Service credits (contra-revenue)",
        AccountType.CONTRA_INCOME,
    ),
    LedgerAccount.COST_RECOVERY: (
        "7900",
        "IT internal cost recovery",
        AccountType.CONTRA_EXPENSE,
    ),
    LedgerAccount.SUBSIDY: (
        "8900",
        "Subsidy: cost covered by budget, donations or taxes",
        AccountType.EQUITY,
    ),
    LedgerAccount.ADJUSTMENT: ("9900", "Adjustments clearing", AccountType.EQUITY),
}


COST_CENTRE_PURPOSE = LedgerAccount.INTERNAL_CHARGES

#: the tables a posting writes
POSTED = (JournalEntry, JournalLine)


@dataclass
class LineSpec:
    """One line to post: ``account`` (an Account), a positive debit or credit, a currency."""

    account: Account
    currency: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    customer_id: int | None = None
    memo: str = ""


@dataclass
class EntrySpec:
    period: str
    date: dt.date
    kind: str
    memo: str
    lines: list[LineSpec]
    customer_id: int | None = None
    reverses_id: int | None = None
    #: the customer object when the caller has it (saves a query per entry in a close)
    customer: object | None = None
    #: currency → rate (1 base = rate currency) the entry is posted at; a currency left out
    #: takes the latest rate on or before ``date`` (refused when there is none)
    rates: dict[str, Decimal] = field(default_factory=dict)
    #: the submission that posts it (an adjustment's form key or API header), or None
    request_key: str | None = None


def accounts() -> dict[str, Account]:
    """The standard accounts by purpose, created on first use."""
    existing = {a.purpose: a for a in Account.objects.filter(cost_centre="", purpose__in=CHART)}
    missing = [
        Account(code=code, name=name, type=type_, purpose=purpose)
        for purpose, (code, name, type_) in CHART.items()
        if purpose not in existing
    ]
    if missing:
        Account.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {a.purpose: a for a in Account.objects.filter(cost_centre="", purpose__in=CHART)}
    return existing


def cost_centre_accounts(cost_centres: set[str]) -> dict[str, Account]:
    """Each cost centre's *Internal IT charges* expense account, created on first use."""
    if not cost_centres:
        return {}
    found = {
        a.cost_centre: a
        for a in Account.objects.filter(purpose=COST_CENTRE_PURPOSE, cost_centre__in=cost_centres)
    }
    missing = [
        Account(
            code=f"6900-{centre}"[:30],
            name=f"Internal IT charges — {centre}",
            type=AccountType.EXPENSE,
            purpose=COST_CENTRE_PURPOSE,
            cost_centre=centre,
        )
        for centre in sorted(cost_centres - set(found))
    ]
    if missing:
        Account.objects.bulk_create(missing, ignore_conflicts=True)
        found = {
            a.cost_centre: a
            for a in Account.objects.filter(
                purpose=COST_CENTRE_PURPOSE, cost_centre__in=cost_centres
            )
        }
    return found


def _describe(purposes) -> str:
    names = {purpose: f"{code} {name}" for purpose, (code, name, _) in CHART.items()}
    names[COST_CENTRE_PURPOSE] = "6900-… Internal IT charges (cost centres)"
    return ", ".join(names.get(p, p) for p in sorted(purposes))


def account_refusal(
    accounts: list[tuple[str, str]], customer=None, *, customer_label: str = ""
) -> str | None:
    """R2: why an entry on these accounts (``(purpose, cost_centre)`` pairs) may not be posted
    for ``customer`` (or for no customer), or None when the policy allows it."""
    purposes = {purpose for purpose, _ in accounts}
    unknown = {p for p in purposes if p not in LedgerAccount.__members__.values()}
    if unknown:
        return f"account role(s) {', '.join(sorted(unknown))} have no posting rule"
    if customer is not None:
        policy = policy_for(customer)
        label = customer_label or getattr(customer, "name", "") or "the customer"
        outside = purposes - policy.ledger_accounts
        if outside:
            return (
                f"an entry for the {policy.kind} customer {label} may not use "
                f"{_describe(outside)}: {policy.kind} customers post to "
                f"{_describe(policy.ledger_accounts)} only"
            )
        centre = getattr(customer, "cost_centre", "")
        foreign = sorted({cc for _, cc in accounts if cc and cc != centre})
        if foreign:
            return (
                f"an entry for {label} may not charge another customer's cost centre "
                f"({', '.join(foreign)})"
            )
        return None
    if not policies_allowing_accounts(purposes):
        shared = frozenset.intersection(*(policy.ledger_accounts for policy in POLICIES.values()))
        sides = " and ".join(
            f"{kind} accounts ({_describe(purposes & POLICIES[kind].ledger_accounts - shared)})"
            for kind in POLICIES
            if purposes & POLICIES[kind].ledger_accounts - shared
        )
        return (
            f"one entry may not mix {sides}: an internal charge is a transfer, never revenue "
            "or a receivable"
        )
    return None


def check_accounts(spec: EntrySpec) -> None:
    """Refuse an entry whose accounts the customer's policy does not allow."""
    customer = spec.customer
    if customer is None and spec.customer_id is not None:
        from servicebook.parties.models import Customer

        customer = Customer.objects.get(pk=spec.customer_id)
    line_customers = {line.customer_id for line in spec.lines} - {None, spec.customer_id}
    if line_customers:
        raise DomainError(
            "every line of an entry belongs to the entry's customer", code="wrong_account"
        )
    refusal = account_refusal(
        [(line.account.purpose, line.account.cost_centre) for line in spec.lines], customer
    )
    if refusal:
        raise DomainError(refusal, code="wrong_account", field="lines")


def check_entry(spec: EntrySpec) -> None:
    """Refuse an entry whose lines are not positive one-sided amounts balancing per currency,
    or whose accounts the customer's policy does not allow."""
    if len(spec.lines) < 2:
        raise DomainError("a journal entry needs at least two lines", code="unbalanced")
    balance: dict[str, Decimal] = defaultdict(Decimal)
    for line in spec.lines:
        if line.currency not in CURRENCIES:
            raise DomainError(f"unknown currency {line.currency!r}", field="currency")
        debit, credit = Decimal(line.debit), Decimal(line.credit)
        if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
            raise DomainError(
                "each line is a positive debit or a positive credit, not both",
                code="bad_line",
            )
        if (
            round_money(debit, line.currency) != debit
            or round_money(credit, line.currency) != credit
        ):
            raise DomainError(
                f"amounts are in whole minor units of {line.currency}", code="bad_line"
            )
        balance[line.currency] += debit - credit
    unbalanced = {cur: diff for cur, diff in balance.items() if diff != 0}
    if unbalanced:
        detail = ", ".join(f"{cur} {diff:+}" for cur, diff in sorted(unbalanced.items()))
        raise DomainError(
            f"the entry does not balance (debits − credits: {detail})", code="unbalanced"
        )
    check_accounts(spec)


def base_currency() -> str:
    from servicebook.parties.models import Provider

    provider = Provider.objects.order_by("pk").values_list("base_currency", flat=True).first()
    return provider or "EUR"


def base_amounts(spec: EntrySpec, base: str) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(rate, base debit, base credit) of each line of a balanced entry: each currency's total
    at its rate, split over that currency's debit lines and over its credit lines."""
    result: list[tuple[Decimal, Decimal, Decimal]] = [(Decimal(1), ZERO, ZERO) for _ in spec.lines]
    for currency in sorted({line.currency for line in spec.lines}):
        indexes = [i for i, line in enumerate(spec.lines) if line.currency == currency]
        if currency == base:
            for i in indexes:
                line = spec.lines[i]
                result[i] = (Decimal(1), Decimal(line.debit), Decimal(line.credit))
            continue
        rate = spec.rates.get(currency)
        if rate is None:
            rate = rate_on(base, currency, spec.date).value
        total = sum((Decimal(spec.lines[i].debit) for i in indexes), ZERO)
        base_total = round_money(total / rate, base)
        for side in ("debit", "credit"):
            sided = [i for i in indexes if getattr(spec.lines[i], side)]
            if not sided:
                continue
            weights = [Decimal(getattr(spec.lines[i], side)) for i in sided]
            for i, part in zip(
                sided, allocate_amount(base_total, weights, quantum(base)), strict=True
            ):
                debit, credit = (part, ZERO) if side == "debit" else (ZERO, part)
                result[i] = (rate, debit, credit)
    return result


def post(specs: list[EntrySpec], *, actor=None) -> list[JournalEntry]:
    """Post entries in bulk (caller holds the transaction and has checked the periods)."""
    ids = post_ids(specs, actor=actor)
    entries = JournalEntry.objects.in_bulk(ids)
    return [entries[pk] for pk in ids]


def post_ids(specs: list[EntrySpec], *, actor=None) -> list[int]:
    """:func:`post`, answering the new entries' ids only (a period close: no model objects)."""
    for spec in specs:
        check_entry(spec)
    base = base_currency()
    in_base = [base_amounts(spec, base) for spec in specs]
    now = timezone.now()
    ids = insert_rows(
        JournalEntry,
        [
            {
                "period": spec.period,
                "date": spec.date,
                "kind": spec.kind,
                "memo": spec.memo[:200],
                "customer_id": spec.customer_id,
                "reverses_id": spec.reverses_id,
                "posted_at": now,
                "posted_by_id": actor.pk if actor else None,
                "base_currency": base,
                "request_key": spec.request_key,
            }
            for spec in specs
        ],
    )
    fast_insert(
        JournalLine,
        [
            "entry",
            "account",
            "debit",
            "credit",
            "currency",
            "customer",
            "memo",
            "rate",
            "base_debit",
            "base_credit",
        ],
        (  # a generator: the server inserts while Python makes the next rows
            (
                entry_id,
                line.account.pk,
                line.debit,
                line.credit,
                line.currency,
                line.customer_id,
                line.memo[:200],
                *converted,
            )
            for entry_id, spec, lines_in_base in zip(ids, specs, in_base, strict=True)
            for line, converted in zip(spec.lines, lines_in_base, strict=True)
        ),
    )
    return ids


def insert_rows(model, rows: list[dict]) -> list[int]:
    """Insert rows (dicts of attribute names, the same keys in each) and answer their ids, in
    order: on PostgreSQL the ids are taken from the table's sequence and the rows copied in
    (COPY; every other column at its default, timestamps now) with no model objects; elsewhere
    by ``bulk_create``. For rows the caller has validated."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
        return [obj.pk for obj in objects]
    meta, now = model._meta, timezone.now()
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    given = [f for f in fields if f.attname in rows[0]]
    rest = [f for f in fields if f.attname not in rows[0]]
    constants = tuple(
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_db_prep_save(f.get_default(), connection)
        for f in rest
    )
    json_fields = {f.attname for f in given if f.get_internal_type() == "JSONField"}
    names = [f.attname for f in given]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    fast_insert(
        model,
        [meta.pk.name, *(f.name for f in given), *(f.name for f in rest)],
        (  # a generator (see fast_insert)
            (
                pk,
                *(_json(meta.get_field(n), row[n]) if n in json_fields else row[n] for n in names),
                *constants,
            )
            for pk, row in zip(ids, rows, strict=True)
        ),
    )
    return ids


def _json(field, value):
    return field.get_db_prep_save(value, connection)


def fast_insert(model, fields: list[str], rows: Iterable[tuple]) -> None:
    """Insert many rows without building model instances (COPY on PostgreSQL, executemany on
    SQLite). For append-only rows whose ids nobody needs back; the caller has validated them.

    ``rows`` may be a generator: on PostgreSQL each row is then made as the one before it is
    sent, so the server inserts while Python makes the rest (a close's lines)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = itertools.chain((first,), rows)
    table = model._meta.db_table
    columns = [model._meta.get_field(name).column for name in fields]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) "
                f"VALUES ({placeholders})",
                rows,
            )
