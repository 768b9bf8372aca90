"""The one chart data shape every page's canvas reads (web/static/web/charts.js)."""

import json
from decimal import Decimal as D

from servicebook.core.charts import chart_json


def test_values_are_exact_decimal_strings_and_missing_ones_zero():
    data = json.loads(chart_json({"0-30": 1, "31-60": 2}, [D("1234.50"), None], "Outstanding"))
    assert data == {"labels": ["0-30", "31-60"], "values": ["1234.50", "0"], "label": "Outstanding"}
    assert json.loads(chart_json([], []))["label"] == ""


def test_a_target_a_share_and_a_fixed_axis_are_passed_on_only_when_asked():
    data = json.loads(chart_json(["2026-10"], ["100"], "Resolved", target=D("95.0"), percent=True))
    assert data["target"] == "95.0" and data["percent"] is True and "axis" not in data
    assert json.loads(chart_json(["2026-10"], ["4.2"], axis=(1, 5)))["axis"] == [1, 5]
    assert set(json.loads(chart_json(["a"], [1]))) == {"labels", "values", "label"}
