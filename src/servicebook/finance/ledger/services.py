"""Writes of the ledger: adjustments and reversals, posted into an open period (R2).

Entries of the period close and of payments are posted by billing through
:func:`servicebook.finance.ledger.posting.post`; corrections are never edits, always new entries.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from servicebook.core.errors import DomainError
from servicebook.core.idempotency import checked_key, earlier_write
from servicebook.core.models import User
from servicebook.core.money import to_decimal, validate_currency
from servicebook.core.periods import period_dates, period_of
from servicebook.core.roles import Role
from servicebook.core.services import require_role
from servicebook.finance.ledger import posting
from servicebook.finance.ledger.models import Account, EntryKind, JournalEntry, Period
from servicebook.finance.ledger.periods import (
    check_period,
    open_period_row,
    require_open,
    today,
)
from servicebook.finance.ledger.workflows import PERIOD
from servicebook.parties.models import Customer, Provider

#: who may post to the ledger: adjustments, payments, the period close
FINANCE = (Role.FINANCE,)
#: who may post an adjustment or a reversal: finance and the provider admin (who read the ledger)
LEDGER_WRITERS = (Role.FINANCE, Role.PROVIDER_ADMIN)


def _adjustment_currency(customer: Customer | None) -> tuple[str | None, str]:
    """The currency an adjustment for a customer is in: its billing currency (the ledger
    converts nothing). An entry for no customer may move any currency, balanced in each."""
    if customer is not None:
        return customer.billing_currency, f"for {customer.name}"
    return None, ""


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
    rates: dict | None = None,
    request_key: str | None = None,
) -> JournalEntry:
    """Post a correction as a new balanced entry in an open period.

    ``request_key`` names the submission (:mod:`servicebook.core.idempotency`): the same key
    again returns the entry it posted, marked ``repeated``, instead of posting a second one
    (looked up with the period's row locked, so two submissions at once post once).

    ``lines``: ``{"account": Account or code, "debit"|"credit": amount, "currency": code}``.
    The accounts must be ones the customer's policy allows (R2): an internal customer's entry
    never touches revenue or receivables, and no entry mixes a cost centre with revenue.
    A line in another currency than the base one is converted at ``rates`` (currency → rate),
    else at the latest rate on or before ``date`` (decision 0025).
    """
    require_role(actor, *LEDGER_WRITERS, action="Posting an adjustment")
    check_period(period)
    if period > period_of(today()):
        raise DomainError(
            f"{period} has not begun: an adjustment goes into this month or an earlier open one",
            field="period",
        )
    if not memo.strip():
        raise DomainError("an adjustment needs a memo saying why", field="memo")
    request_key = checked_key(request_key)
    require_open(period)
    open_period_row(period)
    Period.objects.filter(period=period).update(updated_at=timezone.now())
    require_open(period)  # re-read after taking the row: a close may just have won
    earlier = earlier_write(
        JournalEntry.objects,
        request_key,
        same={"period": period},
        elsewhere="in another month",
        label=lambda entry: entry.number,
    )
    if earlier is not None:
        return earlier
    first, last = period_dates(period)
    date = date or min(max(today(), first), last)
    if period_of(date) != period:
        raise DomainError(f"the date {date} is not in {period}", field="date")
    specs = _line_specs(lines, customer)
    spec = posting.EntrySpec(
        period=period,
        date=date,
        kind=EntryKind.ADJUSTMENT,
        memo=memo,
        lines=specs,
        customer_id=customer.pk if customer else None,
        reverses_id=reverses.pk if reverses else None,
        customer=customer,
        rates=dict(rates or {}),
        request_key=request_key,
    )
    entry = _post_keyed(spec, actor)
    row = Period.objects.get(period=period)
    PERIOD.record(row, actor, "adjustment", note=f"{entry.number}: {memo}"[:500])
    entry.repeated = False
    return entry


def _line_specs(lines: list[dict], customer: Customer | None) -> list[posting.LineSpec]:
    """An adjustment's lines as the ledger posts them: known accounts, in the customer's
    billing currency (the ledger converts nothing), amounts as decimals."""
    expected, whose = _adjustment_currency(customer)
    base = Provider.current().base_currency
    specs = []
    for line in lines:
        account = line["account"]
        if not isinstance(account, Account):
            account = Account.objects.filter(code=account).first()
            if account is None:
                raise DomainError(f"unknown account {line['account']!r}", field="lines")
        currency = validate_currency(line.get("currency", expected or base))
        if expected is not None and currency != expected:
            raise DomainError(
                f"an entry {whose} is in {expected}, not {currency}: the ledger converts nothing",
                field="currency",
            )
        specs.append(
            posting.LineSpec(
                account=account,
                currency=currency,
                debit=to_decimal(line.get("debit", "0")),
                credit=to_decimal(line.get("credit", "0")),
                customer_id=customer.pk if customer else None,
                memo=line.get("memo", ""),
            )
        )
    return specs


def _post_keyed(spec: posting.EntrySpec, actor) -> JournalEntry:
    """Post the adjustment. Its key is unique: when the same submission was just posted in
    another month, at the same moment (the two months' locks do not meet), the key's index
    refuses the second, said as such rather than as a server error."""
    try:
        with transaction.atomic():
            (entry,) = posting.post([spec], actor=actor)
    except (IntegrityError, connection.Database.IntegrityError):  # the COPY's is the driver's
        key = spec.request_key
        if key and JournalEntry.objects.filter(request_key=key).exists():
            raise DomainError(
                "this submission posted an adjustment in another month: send a new key for a "
                "new adjustment",
                code="key_reused",
                field="request_key",
            ) from None
        raise
    return entry


@transaction.atomic
def reverse_entry(
    *, actor: User | None, entry: JournalEntry, period: str, reason: str
) -> JournalEntry:
    """Post the mirror image of ``entry`` (debits ↔ credits) in an open period. The entry itself
    never changes; an entry already reversed is not reversed twice."""
    require_role(actor, *LEDGER_WRITERS, action="Reversing an entry")
    if not (reason or "").strip():
        raise DomainError("a reversal needs a reason", field="reason")
    earlier = JournalEntry.objects.filter(reverses=entry).order_by("pk").first()
    if earlier is not None:
        raise DomainError(
            f"{entry.number} was already reversed by {earlier.number}", code="already_reversed"
        )
    lines = [
        {
            "account": line.account,
            "debit": str(line.credit),
            "credit": str(line.debit),
            "currency": line.currency,
        }
        for line in entry.lines.select_related("account")
    ]
    # the mirror image at the rates of the original, so that it cancels it in the base currency
    rates = {line.currency: line.rate for line in entry.lines.all() if line.rate is not None}
    return post_adjustment(
        actor=actor,
        period=period,
        memo=f"Reversal of {entry.number}: {reason.strip()}",
        lines=lines,
        customer=entry.customer,
        reverses=entry,
        rates=rates,
    )
