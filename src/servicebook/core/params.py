"""Values taken from a request's query string or form, checked before they reach the database.

A query parameter is whatever a user types: ``?customer=abc`` or ``?customer=99999999999999999999``
must not reach a query (SQLite cannot bind an integer beyond 64 bits; PostgreSQL refuses text for
an integer), and a period such as ``9999-12`` must not reach date arithmetic that overflows.
"""

from __future__ import annotations

import re

#: the largest primary key a database can hold (signed 64 bits)
MAX_ID = 2**63 - 1
#: a month written YYYY-MM, in years a business calendar can hold (next month's start included)
PERIOD_RE = re.compile(r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$")


def object_id(value) -> int | None:
    """The id ``value`` names, or None when it is not a whole number an id can be."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def is_period(value) -> bool:
    """Whether ``value`` is a month written YYYY-MM (years 1900 to 2999)."""
    return isinstance(value, str) and PERIOD_RE.match(value) is not None
