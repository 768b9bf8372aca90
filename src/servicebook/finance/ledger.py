"""The double-entry ledger: chart of accounts, posting, and the invariants ``ledger verify`` checks.

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

Which accounts an entry may use is the customer policy's answer (``policy.ledger_accounts``):
an internal customer's entry uses transfer and subsidy accounts only (never revenue or
receivables), an external customer's entry revenue, receivables and in-kind accounts only; an
entry without a customer may not mix the two (a cost centre's account names its internal
customer). Every posting -- period close, payment, adjustment, reversal -- is checked by
:func:`check_accounts`, and ``ledger verify`` checks every posted entry against the same rule.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum

from servicebook.core.errors import DomainError
from servicebook.core.money import CURRENCIES, round_money
from servicebook.finance.models import (
    Account,
    AccountType,
    Invoice,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
    PeriodStatus,
    Statement,
)
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
                f"{_describe(policy.ledger_accounts)} only (R2)"
            )
        centre = getattr(customer, "cost_centre", "")
        foreign = sorted({cc for _, cc in accounts if cc and cc != centre})
        if foreign:
            return (
                f"an entry for {label} may not charge another customer's cost centre "
                f"({', '.join(foreign)}) (R2)"
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
            "or a receivable (R2)"
        )
    return None


def check_accounts(spec: EntrySpec) -> None:
    """Refuse an entry whose accounts the customer's policy does not allow (R2)."""
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


def require_open(period: str) -> None:
    if Period.objects.filter(period=period, status=PeriodStatus.CLOSED).exists():
        raise DomainError(
            f"period {period} is closed: post the correction as an adjustment in an open period",
            code="period_closed",
            field="period",
        )


def post(specs: list[EntrySpec], *, actor=None) -> list[JournalEntry]:
    """Post entries in bulk (caller holds the transaction and has checked the periods)."""
    for spec in specs:
        check_entry(spec)
    entries = JournalEntry.objects.bulk_create(
        [
            JournalEntry(
                period=spec.period,
                date=spec.date,
                kind=spec.kind,
                memo=spec.memo[:200],
                customer_id=spec.customer_id,
                reverses_id=spec.reverses_id,
                posted_by=actor,
            )
            for spec in specs
        ],
        batch_size=2000,
    )
    fast_insert(
        JournalLine,
        ["entry", "account", "debit", "credit", "currency", "customer", "memo"],
        [
            (
                entry.pk,
                line.account.pk,
                line.debit,
                line.credit,
                line.currency,
                line.customer_id,
                line.memo[:200],
            )
            for entry, spec in zip(entries, specs, strict=True)
            for line in spec.lines
        ],
    )
    return entries


def fast_insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert many rows without building model instances (COPY on PostgreSQL, executemany on
    SQLite). For append-only rows whose ids nobody needs back; the caller has validated them."""
    if not rows:
        return
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


# --- verification --------------------------------------------------------------------------------


def verify(*, limit: int = 50) -> dict:
    """Check every invariant of the ledger and the documents posted to it.

    Returns ``{"ok": bool, "checks": {name: violations}, "violations": [first messages]}``.
    """
    checks: dict[str, list[str]] = {}

    # 1. every entry balances per currency (compared in Python: SQLite sums in floating point)
    sums = (
        JournalLine.objects.values("entry_id", "currency")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    )
    checks["entries_balance_per_currency"] = [
        f"JE-{row['entry_id']:06d} does not balance in {row['currency']}: "
        f"debits {row['d']} ≠ credits {row['c']}"
        for row in sums.iterator(chunk_size=5000)
        if row["d"] != row["c"]
    ][:limit]
    # 2. lines are positive and one-sided
    bad_lines = JournalLine.objects.filter(
        Q(debit__lt=0)
        | Q(credit__lt=0)
        | (Q(debit=0) & Q(credit=0))
        | (Q(debit__gt=0) & Q(credit__gt=0))
    ).values_list("entry_id", "pk")[:limit]
    checks["lines_positive_one_sided"] = [
        f"JE-{entry:06d} line {pk} is not a positive debit or credit" for entry, pk in bad_lines
    ]
    # 3. every entry has at least two lines
    thin = (JournalEntry.objects.annotate(n=Count("lines")).filter(n__lt=2).values_list("pk", "n"))[
        :limit
    ]
    checks["entries_have_two_lines"] = [f"JE-{pk:06d} has {n} line(s)" for pk, n in thin]
    # 4. nothing posted into a closed period after it was closed
    late = []
    for period in Period.objects.filter(status=PeriodStatus.CLOSED):
        for pk in JournalEntry.objects.filter(
            period=period.period, posted_at__gt=period.closed_at
        ).values_list("pk", flat=True)[:limit]:
            late.append(f"JE-{pk:06d} was posted into {period.period} after it closed")
    checks["closed_periods_locked"] = late[:limit]
    # 5. every entry uses only the accounts its customer's policy allows (R2)
    checks["accounts_allowed_by_policy"] = _check_accounts(limit)
    # 6. invoices add up and match their entries
    checks["invoices_consistent"] = _check_invoices(limit)
    # 7. statements match their entries
    checks["statements_consistent"] = _check_statements(limit)
    # 8. payments match their entries and never exceed the invoice
    checks["payments_consistent"] = _check_payments(limit)
    violations = [message for found in checks.values() for message in found]
    return {
        "ok": not violations,
        "entries": JournalEntry.objects.count(),
        "lines": JournalLine.objects.count(),
        "checks": {name: len(found) for name, found in checks.items()},
        "violations": violations[:limit],
    }


def _check_accounts(limit: int) -> list[str]:
    """R2 for every posted entry: the accounts it uses, against its customer's policy."""
    from servicebook.parties.models import Customer

    used: dict[int, set[tuple[str, str]]] = defaultdict(set)
    customer_of: dict[int, int | None] = {}
    rows = (
        JournalLine.objects.values_list(
            "entry_id", "account__purpose", "account__cost_centre", "entry__customer_id"
        )
        .distinct()
        .order_by()
    )
    for entry_id, purpose, centre, customer_id in rows.iterator(chunk_size=5000):
        used[entry_id].add((purpose, centre))
        customer_of[entry_id] = customer_id
    customers = Customer.objects.in_bulk({c for c in customer_of.values() if c is not None})
    problems = []
    for entry_id in sorted(used):
        customer = customers.get(customer_of[entry_id])
        refusal = account_refusal(sorted(used[entry_id]), customer)
        if refusal:
            problems.append(f"JE-{entry_id:06d}: {refusal}")
            if len(problems) >= limit:
                break
    return problems


def _entry_sides(entry_ids) -> dict[int, dict[tuple[str, str], Decimal]]:
    """{entry: {(purpose, side): amount}} for the given entries."""
    result: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows = (
        JournalLine.objects.filter(entry_id__in=entry_ids)
        .values("entry_id", "account__purpose")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    for row in rows:
        sides = result[row["entry_id"]]
        sides[(row["account__purpose"], "debit")] += row["d"]
        sides[(row["account__purpose"], "credit")] += row["c"]
    return result


def _chunks(items, size=900):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_invoices(limit: int) -> list[str]:
    from servicebook.finance.models import InvoiceLine

    problems: list[str] = []
    sums = {
        row["invoice_id"]: row
        for row in InvoiceLine.objects.values("invoice_id").annotate(
            gross=Sum("amount", filter=Q(kind__in=["subscription", "usage"])),
            credits=Sum("amount", filter=Q(kind="credit")),
            in_kind=Sum("amount", filter=Q(kind="in_kind")),
        )
    }
    invoices = list(
        Invoice.objects.values(
            "pk", "number", "gross", "credits", "total", "cash_amount", "in_kind_amount", "entry_id"
        )
    )
    for inv in invoices:
        row = sums.get(inv["pk"], {})
        gross = row.get("gross") or ZERO
        credits = -(row.get("credits") or ZERO)
        if gross != inv["gross"] or credits != inv["credits"]:
            problems.append(f"{inv['number']}: lines do not add up to the invoice")
        if inv["total"] != inv["cash_amount"] + inv["in_kind_amount"]:
            problems.append(f"{inv['number']}: cash + in kind ≠ total")
        if inv["total"] != 0 and inv["entry_id"] is None:
            problems.append(f"{inv['number']}: not posted")
    posted = [inv for inv in invoices if inv["entry_id"]]
    for chunk in _chunks(posted):
        sides = _entry_sides([inv["entry_id"] for inv in chunk])
        for inv in chunk:
            s = sides.get(inv["entry_id"], {})
            expected = {
                ("receivable", "debit"): inv["cash_amount"],
                ("in_kind_receivable", "debit"): inv["in_kind_amount"],
                ("service_credits", "debit"): inv["credits"],
                ("revenue", "credit"): inv["gross"],
            }
            for key, amount in expected.items():
                if s.get(key, ZERO) != amount:
                    problems.append(
                        f"{inv['number']}: {key[0]} {key[1]} {s.get(key, ZERO)} ≠ {amount}"
                    )
    return problems[:limit]


def _check_statements(limit: int) -> list[str]:
    problems: list[str] = []
    rows = list(Statement.objects.values("number", "recovered", "uncovered", "posted", "entry_id"))
    for st in rows:
        if st["posted"] and st["entry_id"] is None and (st["recovered"] or st["uncovered"]):
            problems.append(f"{st['number']}: marked posted but has no entry")
        if not st["posted"] and st["entry_id"] is not None:
            problems.append(f"{st['number']}: showback statement has an entry")
    posted = [st for st in rows if st["entry_id"]]
    for chunk in _chunks(posted):
        sides = _entry_sides([st["entry_id"] for st in chunk])
        for st in chunk:
            s = sides.get(st["entry_id"], {})
            if s.get(("internal_charges", "debit"), ZERO) != st["recovered"]:
                problems.append(f"{st['number']}: cost-centre charge ≠ recovered amount")
            if s.get(("subsidy", "debit"), ZERO) != st["uncovered"]:
                problems.append(f"{st['number']}: subsidy ≠ uncovered amount")
            if s.get(("revenue", "credit"), ZERO):
                problems.append(f"{st['number']}: an internal charge was posted as revenue")
    return problems[:limit]


def _check_payments(limit: int) -> list[str]:
    problems: list[str] = []
    paid = {
        row["invoice_id"]: row
        for row in Payment.objects.values("invoice_id").annotate(
            cash=Sum("amount", filter=Q(kind="cash")), kind=Sum("amount", filter=Q(kind="in_kind"))
        )
    }
    for inv in Invoice.objects.filter(
        Q(paid_cash__gt=0) | Q(delivered_in_kind__gt=0) | Q(pk__in=list(paid))
    ).values("pk", "number", "paid_cash", "delivered_in_kind", "cash_amount", "in_kind_amount"):
        row = paid.get(inv["pk"], {})
        if (row.get("cash") or ZERO) != inv["paid_cash"]:
            problems.append(f"{inv['number']}: cash payments ≠ paid cash")
        if (row.get("kind") or ZERO) != inv["delivered_in_kind"]:
            problems.append(f"{inv['number']}: in-kind deliveries ≠ delivered in kind")
        if (
            inv["paid_cash"] > inv["cash_amount"]
            or inv["delivered_in_kind"] > inv["in_kind_amount"]
        ):
            problems.append(f"{inv['number']}: paid more than invoiced")
    payments = list(Payment.objects.values("pk", "kind", "amount", "entry_id"))
    for chunk in _chunks(payments):
        sides = _entry_sides([p["entry_id"] for p in chunk])
        for p in chunk:
            purpose = "receivable" if p["kind"] == "cash" else "in_kind_receivable"
            if sides.get(p["entry_id"], {}).get((purpose, "credit"), ZERO) != p["amount"]:
                problems.append(f"payment {p['pk']}: its entry does not clear {purpose}")
    return problems[:limit]


def balances(*, period: str | None = None) -> list[dict]:
    """Debit, credit and balance per account and currency (optionally for one period)."""
    lines = JournalLine.objects.all()
    if period:
        lines = lines.filter(entry__period=period)
    rows = (
        lines.values("account_id", "account__code", "account__name", "account__type", "currency")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by("account__code", "currency")
    )
    return [
        {
            "account": row["account__code"],
            "name": row["account__name"],
            "type": row["account__type"],
            "currency": row["currency"],
            "debit": row["debit"],
            "credit": row["credit"],
            "balance": row["debit"] - row["credit"],
        }
        for row in rows
    ]


# --- PostgreSQL: a deferred constraint trigger refusing unbalanced entries ------------------------

PG_TRIGGERS = """
CREATE OR REPLACE FUNCTION finance_check_entry_balanced() RETURNS trigger AS $$
DECLARE
    eid bigint;
    bad record;
BEGIN
    IF TG_OP = 'DELETE' THEN eid := OLD.entry_id; ELSE eid := NEW.entry_id; END IF;
    SELECT currency, SUM(debit) - SUM(credit) AS diff INTO bad
      FROM finance_journalline WHERE entry_id = eid
      GROUP BY currency HAVING SUM(debit) <> SUM(credit) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in % (debits - credits = %)',
            eid, bad.currency, bad.diff USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS finance_journalline_balanced ON finance_journalline;
CREATE CONSTRAINT TRIGGER finance_journalline_balanced
    AFTER INSERT OR UPDATE OR DELETE ON finance_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_check_entry_balanced();

CREATE OR REPLACE FUNCTION finance_refuse_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'posted ledger rows are immutable (%): post an adjustment', TG_TABLE_NAME
        USING ERRCODE = '23514';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS finance_journalline_immutable ON finance_journalline;
CREATE TRIGGER finance_journalline_immutable BEFORE UPDATE OR DELETE ON finance_journalline
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_ledger_change();
DROP TRIGGER IF EXISTS finance_journalentry_immutable ON finance_journalentry;
CREATE TRIGGER finance_journalentry_immutable BEFORE UPDATE OR DELETE ON finance_journalentry
    FOR EACH ROW EXECUTE FUNCTION finance_refuse_ledger_change();
"""

PG_TRIGGERS_DROP = """
DROP TRIGGER IF EXISTS finance_journalline_balanced ON finance_journalline;
DROP TRIGGER IF EXISTS finance_journalline_immutable ON finance_journalline;
DROP TRIGGER IF EXISTS finance_journalentry_immutable ON finance_journalentry;
DROP FUNCTION IF EXISTS finance_check_entry_balanced();
DROP FUNCTION IF EXISTS finance_refuse_ledger_change();
"""


def install_pg_triggers(apps, schema_editor) -> None:
    """Migration step: install the triggers on PostgreSQL; a no-op on SQLite."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_TRIGGERS, params=None)


def drop_pg_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_TRIGGERS_DROP, params=None)


def database_enforces_balance() -> bool:
    return connection.vendor == "postgresql"
