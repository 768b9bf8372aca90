"""``ledger verify``: every invariant of the ledger, checked over everything posted.

The ledger's own invariants come first: entries balance per currency, lines are positive and
one-sided, an entry has two lines at least, nothing was posted into a closed period after it
closed, and every entry uses only the accounts its customer's policy allows (R2). The documents
posted to the ledger (billing's invoices, statements and payments) add their own checks through
:func:`add_check`, from ``FinanceConfig.ready()``: the ledger never imports them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum

from servicebook.core.money import quantum
from servicebook.finance.ledger.models import JournalEntry, JournalLine, Period, PeriodStatus
from servicebook.finance.ledger.posting import account_refusal

ZERO = Decimal("0.00")

#: Checks of what was posted to the ledger, added by the packages that post it (name: check).
#: A check takes the most messages to return and returns what it found wrong.
DOCUMENT_CHECKS: dict[str, Callable[[int], list[str]]] = {}


def add_check(name: str, check: Callable[[int], list[str]]) -> None:
    """Add a check to every ``ledger verify`` (its name is the key of ``verify()["checks"]``)."""
    if DOCUMENT_CHECKS.get(name, check) is not check:
        raise ValueError(f"ledger verify already has a check named {name!r}")
    DOCUMENT_CHECKS[name] = check


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
    # 2b. ... and in the base currency, each line's base amount at its rate (decision 0025)
    checks["entries_balance_in_base_currency"] = _check_base_balance(limit)
    checks["base_amounts_at_their_rate"] = _check_base_rates(limit)
    # 5. every entry uses only the accounts its customer's policy allows (R2)
    checks["accounts_allowed_by_policy"] = _check_accounts(limit)
    # 6. and on: the documents posted to the ledger (billing: invoices, statements, payments)
    for name, check in DOCUMENT_CHECKS.items():
        checks[name] = check(limit)
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
    # one query however many customers (in_bulk of a set batches its ids on SQLite)
    customers = {
        c.pk: c
        for c in Customer.objects.filter(
            pk__in=JournalEntry.objects.filter(customer__isnull=False).values("customer_id")
        )
    }
    problems = []
    for entry_id in sorted(used):
        customer = customers.get(customer_of[entry_id])
        refusal = account_refusal(sorted(used[entry_id]), customer)
        if refusal:
            problems.append(f"JE-{entry_id:06d}: {refusal}")
            if len(problems) >= limit:
                break
    return problems


def _check_base_balance(limit: int) -> list[str]:
    """Entries posted with base amounts balance in the base currency, to the cent."""
    sums = (
        JournalLine.objects.filter(base_debit__isnull=False)
        .values("entry_id", "entry__base_currency")
        .annotate(d=Sum("base_debit"), c=Sum("base_credit"))
        .order_by()
    )
    return [
        f"JE-{row['entry_id']:06d} does not balance in the base currency "
        f"{row['entry__base_currency']}: debits {row['d']} ≠ credits {row['c']}"
        for row in sums.iterator(chunk_size=5000)
        if row["d"] != row["c"]
    ][:limit]


def _check_base_rates(limit: int) -> list[str]:
    """Each line's base amount is its amount at its rate, within one and a half minor units of
    the base currency (the converted total is rounded, then split by largest remainder)."""
    problems = []
    fields = ("entry_id", "pk", "debit", "credit", "rate", "base_debit", "base_credit")
    rows = JournalLine.objects.filter(rate__isnull=False).values_list(
        *fields, "entry__base_currency"
    )
    for entry_id, pk, debit, credit, rate, base_debit, base_credit, base in rows.iterator(
        chunk_size=5000
    ):
        cent = quantum(base or "EUR") * Decimal("1.5")
        if rate <= 0 or base_debit is None or base_credit is None:
            problems.append(f"JE-{entry_id:06d} line {pk} has a rate but no base amount")
        elif abs((debit - credit) / rate - (base_debit - base_credit)) > cent:
            problems.append(
                f"JE-{entry_id:06d} line {pk}: {debit - credit} at {rate} is not "
                f"{base_debit - base_credit} in the base currency"
            )
        if len(problems) >= limit:
            break
    return problems


def entry_sides(entry_ids) -> dict[int, dict[tuple[str, str], Decimal]]:
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


def verify_recorded() -> dict:
    """:func:`verify`, with what it covered: ``last_entry``, the newest entry when it began (the
    ledger page counts the entries posted after it), for the verification job to keep."""
    last = JournalEntry.objects.aggregate(last=Max("pk"))["last"] or 0
    return {**verify(), "last_entry": last}


def last_verification() -> dict:
    """What the ledger page says about verification (issue 14: a whole-ledger check took seconds
    at a year of 10,000 customers, so the page never runs it; a job does, and keeps its answer).

    ``{"result": the newest finished verification's answer or None, "checked_at", "job",
    "posted_since": entries posted after it, "closed_since": periods closed after it, "current":
    nothing posted or closed since, "pending": a verification queued or running, or None}``."""
    from servicebook.core.models import Job, JobStatus
    from servicebook.finance.job_names import VERIFY_LEDGER

    jobs = Job.objects.filter(kind=VERIFY_LEDGER).select_related("user")
    done = jobs.filter(status=JobStatus.SUCCEEDED).order_by("-finished_at", "-pk").first()
    pending = jobs.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).order_by("-pk").first()
    answer: dict = {"result": None, "job": done, "pending": pending, "current": False}
    if done is None:
        return answer
    began = done.started_at or done.finished_at
    posted = JournalEntry.objects.filter(pk__gt=done.summary.get("last_entry", 0)).count()
    closed = Period.objects.filter(status=PeriodStatus.CLOSED, closed_at__gt=began).count()
    return {
        **answer,
        "result": done.summary,
        "checked_at": began,
        "posted_since": posted,
        "closed_since": closed,
        "current": not posted and not closed,
    }


def chunks(items, size=900):
    for start in range(0, len(items), size):
        yield items[start : start + size]
