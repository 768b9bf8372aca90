"""The periods a measure is read in, and whether a reading is on target (no Django import).

A measure is read monthly (``2026-03``), quarterly (``2026-Q1``) or yearly (``2026``). Its
computed readings gather the months of the period; a reading is on target when it is at least
the target (higher is better) or at most the target (lower is better).
"""

from __future__ import annotations

import re
from decimal import Decimal

MONTHLY, QUARTERLY, YEARLY = "monthly", "quarterly", "yearly"
_PATTERNS = {
    MONTHLY: (re.compile(r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$"), "YYYY-MM, e.g. 2026-03"),
    QUARTERLY: (re.compile(r"^(19|2\d)\d{2}-Q[1-4]$"), "YYYY-Qn, e.g. 2026-Q1"),
    YEARLY: (re.compile(r"^(19|2\d)\d{2}$"), "YYYY, e.g. 2026"),
}


class MeasurePeriodError(ValueError):
    """A period written in another shape than the measure's frequency."""


def check(frequency: str, label: object) -> str:
    """``label`` itself when it is a period of ``frequency``, else :class:`MeasurePeriodError`."""
    pattern, shape = _PATTERNS[frequency]
    if not isinstance(label, str) or not pattern.match(label.strip()):
        raise MeasurePeriodError(f"{label!r} is not a {frequency} period: use {shape}")
    return label.strip()


def months(frequency: str, label: str) -> list[str]:
    """The months (``YYYY-MM``) a period of ``frequency`` covers."""
    label = check(frequency, label)
    if frequency == MONTHLY:
        return [label]
    year = int(label[:4])
    if frequency == QUARTERLY:
        first = (int(label[-1]) - 1) * 3 + 1
        return [f"{year:04d}-{m:02d}" for m in range(first, first + 3)]
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


def period_of(frequency: str, month: str) -> str:
    """The period of ``frequency`` a month (``YYYY-MM``) falls in."""
    year, number = month[:4], int(month[5:7])
    if frequency == MONTHLY:
        return month
    if frequency == QUARTERLY:
        return f"{year}-Q{(number - 1) // 3 + 1}"
    return year


def on_target(direction: str, value: Decimal, target: Decimal) -> bool:
    """Whether ``value`` meets ``target``: at least it (higher is better) or at most it."""
    return value >= target if direction == "higher" else value <= target


def sort_key(label: str) -> tuple[int, int]:
    """Periods of one frequency in time order."""
    year = int(label[:4])
    rest = label[5:].lstrip("Q")
    return year, int(rest) if rest else 0
