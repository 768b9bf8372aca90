"""Charge models for one quantity: flat, per unit, package, graduated and volume tiers."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicebook.catalog.pricing import charge_amount

TIERS = [(D(0), D("0.09")), (D(1000), D("0.07")), (D(10000), D("0.05"))]


def test_flat_per_unit_package():
    assert charge_amount("flat", D(1), D("2500")) == D("2500")
    assert charge_amount("flat", D(0), D("2500")) == D(0)
    assert charge_amount("per_unit", D("85"), D("45")) == D("3825")
    assert charge_amount("package", D("1001"), D("40"), package_size=D(500)) == D("120")


def test_graduated_prices_each_slice_at_its_tier():
    # 1000 × 0.09 + 9000 × 0.07 + 2000 × 0.05
    assert charge_amount("graduated", D(12000), D(0), tiers=TIERS) == D("820.00")


def test_volume_prices_everything_at_the_reached_tier():
    assert charge_amount("volume", D(12000), D(0), tiers=TIERS) == D("600.00")
    assert charge_amount("volume", D(999), D(0), tiers=TIERS) == D("89.91")


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        ("graduated", {"tiers": []}, "at least one tier"),
        ("volume", {"tiers": [(D(5), D(1))]}, "first tier must start at 0"),
        ("package", {"package_size": D(0)}, "package size must be positive"),
        ("barter", {}, "unknown charge model"),
    ],
)
def test_bad_configuration_is_refused(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        charge_amount(model, D(10), D(1), **kwargs)


@given(st.decimals(min_value=0, max_value=10**7, places=2))
def test_volume_never_exceeds_graduated_when_prices_fall(quantity):
    graduated = charge_amount("graduated", quantity, D(0), tiers=TIERS)
    per_unit_top = charge_amount("per_unit", quantity, TIERS[0][1])
    assert charge_amount("volume", quantity, D(0), tiers=TIERS) <= graduated <= per_unit_top
