"""What FOCUS 1.2 asks of the values we write: units in its unit format, ASCII strings,
timestamps to the second (pure: no Django import).

The FinOps Foundation's validator (``focus-validator``) checks these with the rules shipped as
``model-1.2.0.1.json`` (vendored under ``tests/data/focus-1.2/``, which the suite checks every
demo export against).
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

#: the FOCUS version our exports follow (Parquet files carry it as schema metadata)
FOCUS_VERSION = "1.2"

#: our catalogue's units (``catalog.models.Unit``) in FOCUS's unit format ("GB-Months", "Hours")
UNITS = {
    "user_month": "User-Months",
    "device_month": "Device-Months",
    "gb_month": "GB-Months",
    "vm_hour": "VM-Hours",
    "ticket": "Tickets",
    "hour": "Hours",
    "api_call": "API Calls",
    "licence_month": "Licence-Months",
    "month": "Months",
    "h": "Hours",
    "hr": "Hours",
}

_TIME_UNITS = {
    "year": "Years",
    "month": "Months",
    "day": "Days",
    "hour": "Hours",
    "minute": "Minutes",
    "second": "Seconds",
}
_DATA_SIZES = {u.lower(): u for u in ("KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB")}
_ACRONYMS = {"vm": "VM", "api": "API", "cpu": "CPU", "vcpu": "vCPU", "ip": "IP"}

#: typography of our descriptions and names, spelled in ASCII for FOCUS string columns
ASCII_SPELLING = {
    "\u2265": ">=",  # ≥
    "\u2264": "<=",  # ≤
    "\u2014": "-",  # em dash
    "\u2013": "-",  # en dash
    "\u2212": "-",  # minus sign
    "\u00d7": "x",  # ×
    "\u2192": "->",  # →
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u20ac": "EUR",
    "\u00a3": "GBP",
    "\u00df": "ss",
}


def ascii_text(text: str | None) -> str | None:
    """``text`` in ASCII, as FOCUS's StringHandling asks: ``≥`` → ``>=``, ``—`` → ``-``,
    accents dropped (``é`` → ``e``), anything else without an ASCII spelling → ``?``."""
    if text is None:
        return None
    spelled = "".join(ASCII_SPELLING.get(ch, ch) for ch in text)
    folded = unicodedata.normalize("NFKD", spelled)
    return "".join(
        ch if ord(ch) < 128 else ("" if unicodedata.combining(ch) else "?") for ch in folded
    )


def _word(part: str) -> str:
    low = part.lower()
    return _DATA_SIZES.get(low) or _ACRONYMS.get(low) or part[:1].upper() + part[1:]


def _plural(word: str) -> str:
    return word if word.isupper() or word.endswith("s") else word + "s"


def focus_unit(unit: str | None) -> str | None:
    """A unit in FOCUS's unit format: ``vm_hour`` → ``VM-Hours``, ``gb_month`` → ``GB-Months``,
    ``hour`` → ``Hours``, ``api_call`` → ``API Calls``; a unit already in that format is kept."""
    if not unit:
        return None
    if unit in UNITS:
        return UNITS[unit]
    parts = [p for p in unit.replace("-", "_").replace(" ", "_").split("_") if p]
    if not parts:
        return None
    if parts[-1].lower().rstrip("s") in _TIME_UNITS:
        time = _TIME_UNITS[parts[-1].lower().rstrip("s")]
        head = [_word(p) for p in parts[:-1]]
        return f"{' '.join(head)}-{time}" if head else time
    words = [_word(p) for p in parts]
    return " ".join([*words[:-1], _plural(words[-1])])


def count_unit(unit: str | None) -> str | None:
    """The unit without its time dimension (``gb_month`` → ``GB``, ``user_month`` → ``User``):
    what a package counts (``500 GB``)."""
    full = focus_unit(unit)
    if not full:
        return None
    return full.split("-")[0] if "-" in full else full


def package_unit(unit: str | None, size: Decimal) -> str:
    """The pricing unit of a package: ``500 GB`` (FOCUS's ``<quantity> <unit>`` form)."""
    amount = format(Decimal(size).normalize(), "f")
    return f"{amount} {count_unit(unit) or 'Units'}"
