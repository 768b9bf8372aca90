"""The data a page's chart draws: one JSON shape for every ``<canvas data-chart='...'>``.

``web/static/web/charts.js`` reads ``{"labels": [...], "values": [...], "label": "..."}`` and
draws a bar (or ``data-chart-type`` line) chart. With a ``target`` it draws the target as a dashed
line; a ``percent`` chart has an axis that ends at 100 and starts a little below the lowest
figure (a flat 100 is a line at the top, not the middle of a 95–105 axis); any other chart's axis
starts at zero. Values are written as strings of their exact
decimals (a Decimal amount never passes through float; the script reads them with ``Number``), a
missing value as 0. No web import: selectors that prepare a page's figures may build it too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable


def chart_json(
    labels: Iterable,
    values: Iterable,
    label: str = "",
    *,
    target: object = None,
    percent: bool = False,
    axis: tuple[int, int] | None = None,
) -> str:
    """The chart data of one series: a label per bar or point and its value; ``target`` (a
    number) is drawn as a line, ``percent`` fits the axis to a share (at most 100), ``axis``
    fixes it (a 1-5 satisfaction score)."""
    data: dict = {
        "labels": [str(x) for x in labels],
        "values": ["0" if v is None else str(v) for v in values],
        "label": label,
    }
    if target is not None:
        data["target"] = str(target)
    if percent:
        data["percent"] = True
    if axis is not None:
        data["axis"] = list(axis)
    return json.dumps(data)
