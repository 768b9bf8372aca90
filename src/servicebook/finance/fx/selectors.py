"""The one lookup of an exchange rate, and conversions into the base currency.

The rate of a day is the latest rate on or before it (the ECB publishes none on weekends and
TARGET holidays). A missing rate is a refusal naming the pair and the day, never a silent 1:1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from servicebook.core.errors import DomainError
from servicebook.core.money import round_money
from servicebook.finance.fx.models import ExchangeRate

ONE = Decimal(1)
#: places kept of an inverted rate (the pair entered the other way round)
RATE_QUANTUM = Decimal("0.000001")


class MissingRate(DomainError):
    """No rate for a currency pair on or before a day."""

    code = "missing_exchange_rate"


@dataclass(frozen=True)
class Rate:
    """``1 base = value currency`` as known on ``date`` (the day the rate was published)."""

    base: str
    currency: str
    value: Decimal
    date: dt.date | None = None
    source: str = ""

    def to_base(self, amount: Decimal) -> Decimal:
        """``amount`` (in ``currency``) in the base currency, rounded to its minor unit."""
        return round_money(Decimal(amount) / self.value, self.base)

    def from_base(self, amount: Decimal) -> Decimal:
        """``amount`` (in the base currency) in ``currency``, rounded to its minor unit."""
        return round_money(Decimal(amount) * self.value, self.currency)

    def describe(self) -> str:
        when = f" of {self.date.isoformat()}" if self.date else ""
        return f"1 {self.base} = {self.value.normalize():f} {self.currency}{when}"


def missing_rate_message(base: str, currency: str, day: dt.date) -> str:
    return (
        f"No {base}/{currency} exchange rate on or before {day.isoformat()}: import the ECB "
        "rates or enter one"
    )


def rate_on(base: str, currency: str, day: dt.date) -> Rate:
    """The rate bringing ``currency`` into ``base`` on ``day`` (1 when they are the same)."""
    if base == currency:
        return Rate(base, currency, ONE)
    direct = (
        ExchangeRate.objects.filter(base=base, currency=currency, date__lte=day)
        .order_by("-date")
        .values_list("rate", "date", "source")
        .first()
    )
    inverse = (
        ExchangeRate.objects.filter(base=currency, currency=base, date__lte=day)
        .order_by("-date")
        .values_list("rate", "date", "source")
        .first()
    )
    if direct and (not inverse or direct[1] >= inverse[1]):
        return Rate(base, currency, direct[0], direct[1], direct[2])
    if inverse:
        value = (ONE / inverse[0]).quantize(RATE_QUANTUM)
        return Rate(base, currency, value, inverse[1], inverse[2])
    raise MissingRate(missing_rate_message(base, currency, day), field="currency")


def find_rate(base: str, currency: str, day: dt.date) -> Rate | None:
    """:func:`rate_on`, or None when there is none."""
    try:
        return rate_on(base, currency, day)
    except MissingRate:
        return None
