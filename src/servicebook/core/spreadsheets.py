"""Cells safe to open in a spreadsheet: text a user typed never runs as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and some that start with a tab or a carriage return) as a formula, which can fetch a URL or run
a command on the machine of whoever opens the file (CSV/formula injection, OWASP). Every file
Servicebook writes for a spreadsheet (list exports, import rejects) passes its text cells through
:func:`safe_cell`: such text gets a leading apostrophe, which spreadsheets show as text. Numbers,
dates and other non-text values are left as they are.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value``, with a leading apostrophe when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list[Any]:
    return [safe_cell(value) for value in values]
