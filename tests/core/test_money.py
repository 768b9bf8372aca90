"""Money: Decimal amounts with a currency, one rounding rule, splits that never lose a cent."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicebook.core.money import Money, allocate_amount, round_money, to_decimal


def test_rounding_is_half_up_to_the_currency_minor_unit():
    assert round_money(D("2.345"), "EUR") == D("2.35")
    assert round_money(D("-2.345"), "EUR") == D("-2.35")
    assert round_money(D("1234.5"), "JPY") == D("1235")


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
