"""The data a page's chart draws: one JSON shape for every ``<canvas data-chart='...'>``.

``web/static/web/charts.js`` reads ``{"labels": [...], "values": [...], "label": "..."}`` and
draws a bar (or ``data-chart-type`` line) chart. Values are written as strings of their exact
decimals (a Decimal amount never passes through float; the script reads them with ``Number``), a
missing value as 0. No web import: selectors that prepare a page's figures may build it too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable


def chart_json(labels: Iterable, values: Iterable, label: str = "") -> str:
    """The chart data of one series: a label per bar or point and its value."""
    return json.dumps(
        {
            "labels": [str(x) for x in labels],
            "values": ["0" if v is None else str(v) for v in values],
            "label": label,
        }
    )
