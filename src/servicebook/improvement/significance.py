"""Is a difference between two groups of customers more than chance? (R21, decision 0022)

A pure kernel (standard library only) for the customer-service parity report:

- :func:`two_proportions`: the two-proportion z-test for attainment rates (tickets answered or
  resolved within target out of the tickets decided), with the pooled standard error;
- :func:`mann_whitney`: the Mann-Whitney U test (normal approximation, ties corrected, with a
  continuity correction) for times to first answer and satisfaction scores, which are skewed
  or ordinal, so a rank test fits them better than Welch's t (and needs no t distribution).

Both answer a two-sided p-value, or none when either side has fewer than ``MIN_SAMPLE``
observations: the normal approximation says nothing useful about a handful of points.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

#: Observations each side needs before a difference is tested.
MIN_SAMPLE = 5
#: A difference with a p-value below this is significant.
SIGNIFICANCE_LEVEL = 0.05

_NORMAL = NormalDist()


@dataclass(frozen=True)
class Test:
    """The outcome of one test: its name, the z statistic and the two-sided p-value (None when
    the sample is too small to test)."""

    name: str
    z: float | None
    p_value: float | None

    @property
    def tested(self) -> bool:
        return self.p_value is not None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < SIGNIFICANCE_LEVEL


def _two_sided(z: float) -> float:
    return min(1.0, 2.0 * (1.0 - _NORMAL.cdf(abs(z))))


def two_proportions(successes_a: int, n_a: int, successes_b: int, n_b: int) -> Test:
    """Two-proportion z-test of ``successes_a / n_a`` against ``successes_b / n_b``."""
    name = "two-proportion z-test"
    if min(n_a, n_b) < MIN_SAMPLE:
        return Test(name, None, None)
    if not (0 <= successes_a <= n_a and 0 <= successes_b <= n_b):
        raise ValueError("successes must lie between 0 and the number of observations")
    pooled = (successes_a + successes_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance == 0:  # everything met (or nothing) on both sides: no difference at all
        return Test(name, 0.0, 1.0)
    z = (successes_a / n_a - successes_b / n_b) / math.sqrt(variance)
    return Test(name, z, _two_sided(z))


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> Test:
    """Mann-Whitney U test of sample ``a`` against sample ``b`` (z > 0: ``a`` ranks higher)."""
    name = "Mann-Whitney U test"
    n_a, n_b = len(a), len(b)
    if min(n_a, n_b) < MIN_SAMPLE:
        return Test(name, None, None)
    pooled = sorted(list(a) + list(b))
    ranks: dict[float, float] = {}
    position = 0
    counts = Counter(pooled)
    for value in sorted(counts):
        count = counts[value]
        ranks[value] = position + (count + 1) / 2  # the average rank of tied values
        position += count
    u_a = sum(ranks[value] for value in a) - n_a * (n_a + 1) / 2
    total = n_a + n_b
    ties = sum(t**3 - t for t in counts.values())
    variance = n_a * n_b / 12 * ((total + 1) - ties / (total * (total - 1)))
    if variance <= 0:  # every value the same
        return Test(name, 0.0, 1.0)
    mean = n_a * n_b / 2
    shift = u_a - mean
    corrected = 0.0 if shift == 0 else shift - math.copysign(0.5, shift)
    z = corrected / math.sqrt(variance)
    return Test(name, z, _two_sided(z))
