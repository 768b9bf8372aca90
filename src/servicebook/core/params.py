"""Values taken from a request's query string or form, checked before they reach the database.

A query parameter is whatever a user types: ``?customer=abc`` or ``?customer=99999999999999999999``
must not reach a query (SQLite cannot bind an integer beyond 64 bits; PostgreSQL refuses text for
an integer), and a period such as ``9999-12`` must not reach date arithmetic that overflows.
Periods are checked by :mod:`servicebook.core.periods` (``is_period`` is re-exported here).
"""

from __future__ import annotations

from servicebook.core.periods import PERIOD_RE, is_period

__all__ = ["MAX_ID", "PERIOD_RE", "is_period", "object_id", "period"]

#: the largest primary key a database can hold (signed 64 bits)
MAX_ID = 2**63 - 1


def object_id(value) -> int | None:
    """The id ``value`` names, or None when it is not a whole number an id can be."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def period(value, default: str | None = None) -> str | None:
    """The period (``YYYY-MM``) a query parameter names, or ``default`` when it is absent or
    is not a period a calendar can hold."""
    return value if is_period(value) else default
