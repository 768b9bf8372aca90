"""Business-case arithmetic in Decimal (no Django import): NPV, payback, ROI, price floor.

Formulas (documented in docs/demand.md):

- cash flows: the investment ``I`` is spent at the start (year 0); the expected yearly net
  benefit ``B`` (savings or value, minus running cost) arrives at the end of years 1…n;
- NPV at the provider's yearly discount rate ``r``: ``NPV = −I + Σ_{t=1..n} B / (1 + r)^t``;
- simple payback in years: ``I / B`` (None when ``B`` ≤ 0 or it never pays back within n);
- ROI over the horizon: ``(n·B − I) / I``;
- difference of a costlier option: ``(chosen − cheaper) / chosen`` — "the alternative is 25%
  cheaper";
- external price floor: ``cost × (1 + minimum margin)``.

Results are rounded once, at the end: money half-up to the cent, years and percentages to two
places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from servicebook.core.money import round_half_up


def _round(value: Decimal) -> Decimal:
    return round_half_up(value, 2)


@dataclass(frozen=True)
class CaseFigures:
    npv: Decimal
    payback_years: Decimal | None
    roi_percent: Decimal | None


def npv(*, investment: Decimal, yearly_benefit: Decimal, years: int, rate: Decimal) -> Decimal:
    """Net present value of −investment now and ``yearly_benefit`` at the end of each year."""
    if years < 1:
        raise ValueError("the horizon is at least one year")
    if rate <= Decimal(-1):
        raise ValueError("the discount rate must be above −100%")
    total = -investment
    factor = Decimal(1)
    for _ in range(years):
        factor *= Decimal(1) + rate
        total += yearly_benefit / factor
    return _round(total)


def payback_years(*, investment: Decimal, yearly_benefit: Decimal, years: int) -> Decimal | None:
    """Years until the undiscounted benefits repay the investment (None: not within horizon)."""
    if yearly_benefit <= 0:
        return None
    payback = investment / yearly_benefit
    return _round(payback) if payback <= years else None


def roi_percent(*, investment: Decimal, yearly_benefit: Decimal, years: int) -> Decimal | None:
    if investment <= 0:
        return None
    return _round((yearly_benefit * years - investment) / investment * 100)


def figures(
    *, investment: Decimal, yearly_benefit: Decimal, years: int, rate: Decimal
) -> CaseFigures:
    return CaseFigures(
        npv=npv(investment=investment, yearly_benefit=yearly_benefit, years=years, rate=rate),
        payback_years=payback_years(
            investment=investment, yearly_benefit=yearly_benefit, years=years
        ),
        roi_percent=roi_percent(investment=investment, yearly_benefit=yearly_benefit, years=years),
    )


def cheaper_by_percent(*, chosen: Decimal, cheaper: Decimal) -> Decimal:
    """How much cheaper ``cheaper`` is than ``chosen``, in percent of the chosen option."""
    if chosen <= 0:
        return Decimal(0)
    return _round((chosen - cheaper) / chosen * 100)


def price_floor(*, cost: Decimal, minimum_margin: Decimal) -> Decimal:
    """The lowest acceptable price: cost plus the minimum margin (R6, R18 external)."""
    return _round(cost * (Decimal(1) + minimum_margin))
