"""Money: Decimal amounts with a currency, one rounding rule, splits that never lose a cent."""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicebook.core.money import (
    CURRENCIES,
    CURRENCY_CHOICES,
    MINOR_UNITS,
    Money,
    allocate_amount,
    minor_units,
    quantum,
    round_half_up,
    round_money,
    to_decimal,
)


def test_minor_units_are_iso_4217():
    # ISO 4217 List One: yen, won and CFA francs have no minor unit, the Gulf dinars three
    expected = {"EUR": 2, "USD": 2, "CHF": 2, "GBP": 2, "HUF": 2, "JPY": 0, "KRW": 0, "ISK": 0}
    expected |= {"CLP": 0, "XOF": 0, "XPF": 0, "KWD": 3, "BHD": 3, "OMR": 3, "TND": 3, "CLF": 4}
    assert {code: minor_units(code) for code in expected} == expected
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)
    with pytest.raises(ValueError, match="not an ISO 4217 currency"):
        minor_units("XAU")  # gold has no minor unit


def test_stored_currencies_are_iso_codes_with_at_most_two_decimals():
    assert all(MINOR_UNITS[code] == places for code, places in CURRENCIES.items())
    assert {places for places in CURRENCIES.values()} == {0, 2}
    assert [code for code, _ in CURRENCY_CHOICES] == sorted(CURRENCIES)
    assert quantum("JPY") == D(1) and quantum("EUR") == D("0.01")
    with pytest.raises(ValueError, match="unsupported currency"):
        quantum("KWD")  # ISO knows it, but stored amounts have two decimals


def test_rounding_is_half_up_to_the_currency_minor_unit():
    assert round_money(D("2.345"), "EUR") == D("2.35")
    assert round_money(D("-2.345"), "EUR") == D("-2.35")
    assert round_money(D("1234.5"), "JPY") == D("1235")
    assert round_half_up(D("-0.5"), 0) == D(-1) and round_half_up(D("12.3456"), 3) == D("12.346")


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(ValueError, match="use a string"):
        Money(0.1, "EUR")
    with pytest.raises(ValueError, match="currency mismatch"):
        Money(D(1), "EUR") + Money(D(1), "USD")
    with pytest.raises(TypeError, match="never a float"):
        Money(D(1), "EUR") * 1.5
    with pytest.raises(ValueError, match="unknown or unsupported currency"):
        Money(D(1), "XYZ")


def test_to_decimal_names_the_field():
    with pytest.raises(ValueError, match="quantity: 'abc' is not a number"):
        to_decimal("abc", field="quantity")
    assert to_decimal(" 1.50 ") == D("1.50")


def test_two_thirds_one_third_split_sums_to_the_cent():
    cash, in_kind = Money(D("100000.00"), "EUR").allocate([2, 1])
    assert (cash.amount, in_kind.amount) == (D("66666.67"), D("33333.33"))
    assert cash + in_kind == Money(D("100000.00"), "EUR")


def test_split_edges():
    assert allocate_amount(D("0.05"), [0, 0], D("0.01")) == [D("0.03"), D("0.02")]  # even
    assert allocate_amount(D("1.00"), [1, 1, 1], D("0.01")) == [D("0.34"), D("0.33"), D("0.33")]
    assert allocate_amount(D("-1.00"), [1, 1, 1], D("0.01")) == [-D("0.34"), -D("0.33"), -D("0.33")]
    assert allocate_amount(D(1000), [D("0.5"), D("0.25"), 0], D(1)) == [D(667), D(333), D(0)]
    with pytest.raises(ValueError, match=r"not a whole number of 0\.01"):
        allocate_amount(D("1.005"), [1], D("0.01"))
    with pytest.raises(ValueError, match="must not be negative"):
        allocate_amount(D(1), [1, -1], D("0.01"))
    with pytest.raises(ValueError, match="at least one weight"):
        allocate_amount(D(1), [], D("0.01"))


def test_ties_and_floors_are_decided_exactly():
    # the remainders differ only beyond Decimal's 28 digits: the larger one still wins
    weights = [D(10**30), D(10**30 + 1), D(2 * 10**30)]
    assert allocate_amount(D("0.02"), weights, D("0.01")) == [D(0), D("0.01"), D("0.01")]


weights_strategy = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False),
    ),
    min_size=1,
    max_size=12,
)


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=weights_strategy,
    places=st.sampled_from([0, 2, 3, 4]),
)
def test_split_is_exact_fair_and_deterministic(total, weights, places):
    unit = D(1).scaleb(-places)
    amount = D(total) * unit
    parts = allocate_amount(amount, weights, unit)
    assert parts == allocate_amount(amount, list(weights), unit)  # deterministic
    assert sum(parts) == amount and len(parts) == len(weights)
    assert all(part % unit == 0 for part in parts)
    shares = [Fraction(w) for w in weights] if any(weights) else [Fraction(1)] * len(weights)
    exact = [Fraction(amount) * w / sum(shares) for w in shares]
    for part, share in zip(parts, exact, strict=True):
        assert abs(Fraction(part) - share) < Fraction(unit)
    # largest remainder: a part rounded up never has a smaller remainder than one rounded down
    magnitude = [abs(x) / Fraction(unit) for x in exact]
    up = [abs(Fraction(p) / Fraction(unit)) > m for p, m in zip(parts, magnitude, strict=True)]
    rest = [m - int(m) for m in magnitude]
    for i, j in ((i, j) for i in range(len(parts)) for j in range(len(parts))):
        if up[i] and not up[j] and rest[j] != int(rest[j]):
            assert rest[i] > rest[j] or (rest[i] == rest[j] and i < j)


@given(
    total=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12),
)
def test_allocation_never_loses_or_invents_a_cent(total, weights):
    amount = D(total) / 100
    parts = allocate_amount(amount, weights, D("0.01"))
    assert sum(parts) == amount
    assert all(part == part.quantize(D("0.01")) for part in parts)
    if sum(weights):
        for part, weight in zip(parts, weights, strict=True):
            exact = amount * weight / sum(weights)
            assert abs(part - exact) < D("0.01")
