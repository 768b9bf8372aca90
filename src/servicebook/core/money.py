"""Money: ``Decimal`` amounts with an ISO 4217 currency, never floats.

Rounding rule (explicit, tested): amounts are rounded to the currency's minor unit with
ROUND_HALF_UP once, at the line level; totals are sums of rounded lines. When one amount is split
into parts (allocation, in-kind shares) the largest-remainder method keeps the parts summing to the
whole to the cent. Stored money uses two decimal places (see docs/decisions/0002-money.md), so only
currencies with 0 or 2 minor units are accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 codes accepted by Servicebook, with their minor units (0 or 2 only).
_TWO_DECIMALS = (
    "AED AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF ILS INR MXN MYR NOK NZD PHP PLN "
    "RON SAR SEK SGD THB TRY TWD USD ZAR"
)
CURRENCIES: dict[str, int] = {code: 2 for code in _TWO_DECIMALS.split()} | {
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
}

CURRENCY_CHOICES = sorted((code, code) for code in CURRENCIES)

MONEY_DIGITS = 18
MONEY_PLACES = 2
RATE_DIGITS = 20
RATE_PLACES = 6


def validate_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError(f"unknown or unsupported currency code {code!r} (ISO 4217, e.g. EUR)")
    return code


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Convert user input to Decimal without ever passing through float."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not a number") from None
    else:
        raise ValueError(f"{field}: {type(value).__name__} is not accepted for money, use a string")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return result


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-CURRENCIES[validate_currency(currency)])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (the one rounding rule of Servicebook)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Arithmetic across currencies is an error."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))
        validate_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by a Decimal, never a float")
        return Money(self.amount * Decimal(factor), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def rounded(self) -> Money:
        return Money(round_money(self.amount, self.currency), self.currency)

    def allocate(self, weights: Sequence[Decimal | int]) -> list[Money]:
        """Split the rounded amount by weights; the parts sum exactly to the whole."""
        total = round_money(self.amount, self.currency)
        parts = allocate_amount(total, weights, quantum(self.currency))
        return [Money(part, self.currency) for part in parts]

    def __str__(self) -> str:
        places = CURRENCIES[self.currency]
        return f"{self.currency} {self.amount:,.{places}f}"


def allocate_amount(
    total: Decimal, weights: Sequence[Decimal | int], unit: Decimal
) -> list[Decimal]:
    """Largest-remainder split of ``total`` (a multiple of ``unit``) in proportion to ``weights``.

    The parts are multiples of ``unit`` and sum to ``total`` exactly. Zero weights get zero; if all
    weights are zero the split is even. Ties go to the earlier weight, so the result is stable.
    """
    weights = [Decimal(w) for w in weights]
    if not weights:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in weights):
        raise ValueError("allocation weights must not be negative")
    if sum(weights) == 0:
        weights = [Decimal(1)] * len(weights)
    weight_sum = sum(weights)
    units = int((total / unit).to_integral_value())
    if Decimal(units) * unit != total:
        raise ValueError(f"{total} is not a whole number of {unit}")
    sign = -1 if units < 0 else 1
    units = abs(units)
    exact = [Decimal(units) * w / weight_sum for w in weights]
    floors = [int(x) for x in exact]
    remainder = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:remainder]:
        floors[i] += 1
    return [sign * Decimal(f) * unit for f in floors]
