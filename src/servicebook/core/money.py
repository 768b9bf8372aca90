"""Money: ``Decimal`` amounts with an ISO 4217 currency, never floats.

The one money module: the currencies and their minor units, the one rounding rule, the one split.

Rounding rule (explicit, tested): amounts are rounded to the currency's minor unit with
ROUND_HALF_UP once, at the line level; totals are sums of rounded lines. When one amount is split
into parts (allocation, in-kind shares, credits under a cap) :func:`allocate_amount`, the
largest-remainder method, keeps the parts summing to the whole to the last minor unit. Stored
money uses two decimal places (see docs/decisions/0002-money.md), so only the currencies of
:data:`CURRENCIES` (0 or 2 minor units) are accepted for stored amounts; :data:`MINOR_UNITS`
knows every ISO 4217 currency, for engines (rating) that keep more places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction


def _codes(text: str) -> list[str]:
    return text.split()


#: ISO 4217 List One: the minor unit (decimal places) of every currency that has one. Precious
#: metals, SDR and test codes (XAU, XDR, XTS, XXX...) have none and are not listed.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        _codes(
            "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
            "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB "
            "EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS "
            "KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
            "MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD "
            "SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS "
            "UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
        ),
        2,
    ),
    **dict.fromkeys(
        _codes("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"), 0
    ),
    **dict.fromkeys(_codes("BHD IQD JOD KWD LYD OMR TND"), 3),
    **dict.fromkeys(_codes("CLF UYW"), 4),
}

#: The currencies Servicebook stores amounts in, with their minor units: ISO 4217 codes with 0 or
#: 2 minor units (stored amounts have two decimals, so no KWD or BHD).
CURRENCIES: dict[str, int] = {
    code: MINOR_UNITS[code]
    for code in _codes(
        "AED AUD BRL CAD CHF CLP CNY CZK DKK EUR GBP HKD HUF ILS INR ISK JPY KRW MXN MYR NOK NZD "
        "PHP PLN RON SAR SEK SGD THB TRY TWD USD ZAR"
    )
}

CURRENCY_CHOICES = sorted((code, code) for code in CURRENCIES)

MONEY_DIGITS = 18
MONEY_PLACES = 2
RATE_DIGITS = 20
RATE_PLACES = 6


def minor_units(code: str) -> int:
    """The ISO 4217 minor unit of ``code`` (any ISO currency, stored or not)."""
    try:
        return MINOR_UNITS[code]
    except (KeyError, TypeError):
        raise ValueError(f"{code!r} is not an ISO 4217 currency with a minor unit") from None


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


#: 10**-places by places (a close rounds millions of amounts: the exponent is not rebuilt each time)
_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(0, 7)}


def round_half_up(value: Decimal, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, half away from zero (the one rounding rule)."""
    exponent = _EXPONENTS.get(places) or Decimal(1).scaleb(-places)
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (the one rounding rule of Servicebook)."""
    try:
        places = CURRENCIES[currency]
    except KeyError:
        validate_currency(currency)  # the error naming the currency
        raise
    return amount.quantize(_EXPONENTS[places], rounding=ROUND_HALF_UP)


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

    The parts are multiples of ``unit`` and sum to ``total`` exactly; each is within one ``unit``
    of its exact share. Each share is floored to whole units and the units left over go one by
    one to the largest remainders; ties go to the earlier weight, so the result is deterministic.
    Shares are computed as exact fractions (no Decimal context rounding decides a floor or a tie).
    A negative total is split as its opposite and negated. Zero weights get zero; if all weights
    are zero the split is even.
    """
    fractions = [Fraction(w) for w in weights]
    if not fractions:
        raise ValueError("allocate needs at least one weight")
    if any(w < 0 for w in fractions):
        raise ValueError("allocation weights must not be negative")
    if not any(fractions):
        fractions = [Fraction(1)] * len(fractions)
    weight_sum = sum(fractions)
    units = Fraction(total) / Fraction(unit)
    if units.denominator != 1:
        raise ValueError(f"{total} is not a whole number of {unit}")
    sign = -1 if units < 0 else 1
    whole = abs(units.numerator)
    exact = [whole * w / weight_sum for w in fractions]
    floors = [int(x) for x in exact]  # x >= 0: int() is the floor
    left = whole - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (floors[i] - exact[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * Decimal(f) * unit for f in floors]
