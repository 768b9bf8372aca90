"""FOCUS import (the real 1,000-row sample), exact allocation, and export round trip."""

from __future__ import annotations

import collections
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicebook.finance.usage.focus import (
    FOCUS_DECIMAL,
    AllocationRules,
    FocusFormatError,
    allocate,
    export_charges,
    focus_totals,
    largest_remainder,
    read_focus,
    tag_values,
)
from servicebook.finance.usage.rating import CHARGE_LINE_SCHEMA

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "src" / "servicebook" / "finance" / "data" / "focus-1.0" / "focus_sample.csv"

needs_sample = pytest.mark.skipif(
    not SAMPLE.exists(), reason=f"FOCUS 1.0 sample not found at {SAMPLE} (see its SOURCE.md)"
)


@pytest.fixture(scope="module")
def focus() -> pa.Table:
    if not SAMPLE.exists():
        pytest.skip(f"FOCUS 1.0 sample not found at {SAMPLE}")
    return read_focus(SAMPLE)


@needs_sample
def test_sample_known_totals_to_the_last_digit(focus):
    assert (focus.num_rows, focus.num_columns) == (1000, 44)
    assert collections.Counter(focus["ProviderName"].to_pylist()) == {
        "AWS": 942,
        "Microsoft": 51,
        "Oracle": 7,
    }
    assert collections.Counter(focus["ChargeCategory"].to_pylist()) == {
        "Usage": 997,
        "Adjustment": 2,
        "Credit": 1,
    }
    totals = focus_totals(focus)
    assert totals["BilledCost"] == {"USD": Decimal("20.52022672899")}
    assert totals["EffectiveCost"] == {"USD": Decimal("14.97651418586")}
    assert focus.schema.field("BilledCost").type == FOCUS_DECIMAL


@needs_sample
def test_sample_quirks_are_survived(focus):
    assert set(focus["ChargeFrequency"].to_pylist()) <= {"Usage-Based", "One-Time", "Recurring"}
    assert focus["BillingPeriodStart"][0].as_py() == dt.datetime(2024, 9, 1, tzinfo=dt.UTC)
    assert focus["AvailabilityZone"].null_count == 893  # the literal string NULL is null
    assert all("NULL" not in focus[c].to_pylist() for c in focus.column_names)
    assert "Id" in focus.column_names  # non-spec column kept as text
    units = tag_values(focus, "business_unit")
    assert units.count("PeoriaData") == 176 and units.count(None) == 340


def test_non_numeric_money_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd\n"
        "1.5,USD,2024-09-01 00:00:00,2024-09-02 00:00:00\n"
        "abc,USD,2024-09-01 00:00:00,2024-09-02 00:00:00\n"
    )
    with pytest.raises(FocusFormatError, match=r"row 2: BilledCost: 'abc'"):
        read_focus(path)
    with pytest.raises(FocusFormatError, match="missing column"):
        read_focus(pa.table({"x": ["1"]}))


RULES = AllocationRules(
    resources={},
    tags={"business_unit": {"PeoriaData": "peoria", "TempeAI": "tempe", "LipaData": None}},
    sub_accounts={"51738928782": "atlas"},
)


@needs_sample
@pytest.mark.parametrize("column", ["BilledCost", "EffectiveCost"])
@pytest.mark.parametrize("spread", [False, True])
def test_allocation_adds_up_exactly(focus, column, spread):
    result = allocate(focus, RULES, cost_column=column, spread_shared=spread)
    expected = {"BilledCost": "20.52022672899", "EffectiveCost": "14.97651418586"}[column]
    assert result.total == Decimal(expected)
    parts = sum(result.allocated.values(), Decimal(0)) + result.shared + result.unallocated
    assert parts == result.total
    assert set(result.allocated) == {"peoria", "tempe", "atlas"}
    if spread:
        assert result.shared == 0
        assert sum(result.shared_spread.values(), Decimal(0)) == (
            result.total - sum(result.direct.values(), Decimal(0))
        )
    else:
        assert result.shared_spread == {}
        assert result.shared != 0


@needs_sample
def test_allocation_precedence_resource_beats_tag_beats_sub_account(focus):
    first = focus.slice(1, 1).to_pylist()[0]  # tagged ViennaAI, sub-account 43883916739
    rules = AllocationRules(
        resources={first["ResourceId"]: "by-resource"},
        tags={"business_unit": {"ViennaAI": "by-tag"}},
        sub_accounts={"43883916739": "by-account"},
    )
    one = focus.slice(1, 1)
    assert set(allocate(one, rules).allocated) == {"by-resource"}
    no_resource = AllocationRules(tags=rules.tags, sub_accounts=rules.sub_accounts)
    assert set(allocate(one, no_resource).allocated) == {"by-tag"}
    assert set(allocate(one, AllocationRules(sub_accounts=rules.sub_accounts)).allocated) == {
        "by-account"
    }


def test_spread_at_a_coarser_precision_than_the_pool_is_refused():
    t = pa.table(
        {
            "BilledCost": pa.array([Decimal("1.005"), Decimal("2")], FOCUS_DECIMAL),
            "BillingCurrency": ["USD", "USD"],
            "SubAccountId": ["a", None],
        }
    )
    with pytest.raises(ValueError, match="cannot be spread exactly at 2"):
        allocate(t, AllocationRules(sub_accounts={}), spread_shared=True, places=2)
    nothing = allocate(t, AllocationRules(), spread_shared=True)
    assert nothing.unallocated == Decimal("3.005") and nothing.allocated == {}


def test_largest_remainder_by_hand():
    shares = largest_remainder(
        Decimal("1.00"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}, 2
    )
    assert shares == {"a": Decimal("0.34"), "b": Decimal("0.33"), "c": Decimal("0.33")}
    assert sum(shares.values()) == Decimal("1.00")


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(-(10**9), 10**9),
    weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=8).filter(lambda w: any(w)),
    places=st.integers(2, 6),
)
def test_largest_remainder_never_loses_or_invents_a_unit(cents, weights, places):
    amount = Decimal(cents).scaleb(-2)
    named = {f"k{i}": Decimal(w) for i, w in enumerate(weights)}
    shares = largest_remainder(amount, named, places)
    assert sum(shares.values(), Decimal(0)) == amount
    unit = Decimal(1).scaleb(-places)
    for k, share in shares.items():
        exact = amount * named[k] / sum(named.values())
        assert abs(share - exact) < unit


def _lines() -> pa.Table:
    utc = dt.UTC
    rows = [
        {
            "customer_id": 7,
            "offering_id": 10,
            "period": "2024-09",
            "currency": "EUR",
            "status": "rated",
            "reason": None,
            "charge_model": "per_unit",
            "quantity": Decimal("1300"),
            "rated_quantity": Decimal("1300"),
            "unit": "h",
            "amount": Decimal("147.5"),
            "records": 2,
            "price_id": 1,
            "price_scope": "list",
            "unit_price": Decimal("0.1"),
            "package_size": None,
            "tier_set_id": None,
            "valid_from": dt.datetime(2024, 1, 1, tzinfo=utc),
            "valid_to": dt.datetime(2024, 9, 15, tzinfo=utc),
        },
        {
            "customer_id": 8,
            "offering_id": 40,
            "period": "2024-09",
            "currency": "EUR",
            "status": "rated",
            "reason": None,
            "charge_model": "flat",
            "quantity": Decimal("0.5"),
            "rated_quantity": Decimal("0.5"),
            "unit": "seat",
            "amount": Decimal("15"),
            "records": 1,
            "price_id": 2,
            "price_scope": "customer",
            "unit_price": Decimal("30"),
            "package_size": None,
            "tier_set_id": None,
            "valid_from": dt.datetime(2024, 1, 1, tzinfo=utc),
            "valid_to": None,
        },
        {
            **dict.fromkeys(CHARGE_LINE_SCHEMA.names),
            "customer_id": 8,
            "offering_id": 99,
            "period": "2024-09",
            "status": "unrated",
            "quantity": Decimal(1),
            "unit": "x",
            "records": 1,
        },
    ]
    return pa.Table.from_pylist(rows, schema=CHARGE_LINE_SCHEMA)


def test_export_round_trips_through_our_reader(tmp_path):
    paths = export_charges(
        _lines(),
        tmp_path,
        provider="Servicebook IT",
        billing_account_id="SB-1",
        customer_names={7: "Finance", 8: "Contoso"},
        offering_names={10: "Small VM", 40: "Office seat"},
    )
    for fmt in ("csv", "parquet"):
        back = read_focus(paths[fmt])
        assert back.num_rows == 2  # the unrated line carries no cost
        rows = back.to_pylist()
        assert [r["BilledCost"] for r in rows] == [Decimal("147.5"), Decimal("15")]
        assert rows[0]["ChargePeriodEnd"] == dt.datetime(2024, 9, 15, tzinfo=dt.UTC)
        assert rows[0]["BillingPeriodEnd"] == dt.datetime(2024, 10, 1, tzinfo=dt.UTC)
        # a flat subscription is the month's service: Usage, recurring (not a commitment)
        assert rows[1]["ChargeCategory"] == "Usage" and rows[1]["ChargeFrequency"] == "Recurring"
        assert rows[0]["ConsumedUnit"] == "Hours" and rows[1]["PricingUnit"] == "Month"
        assert rows[1]["SubAccountName"] == "Contoso" and rows[0]["ServiceName"] == "Small VM"
        assert rows[0]["ProviderName"] == rows[0]["InvoiceIssuerName"] == "Servicebook IT"
        assert rows[0]["ConsumedQuantity"] == Decimal(1300)
        assert focus_totals(back)["BilledCost"] == {"EUR": Decimal("162.5")}
