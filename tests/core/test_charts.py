"""The one chart data shape every page's canvas reads (web/static/web/charts.js)."""

import json
from decimal import Decimal as D

from servicebook.core.charts import chart_json


def test_values_are_exact_decimal_strings_and_missing_ones_zero():
    data = json.loads(chart_json({"0-30": 1, "31-60": 2}, [D("1234.50"), None], "Outstanding"))
    assert data == {"labels": ["0-30", "31-60"], "values": ["1234.50", "0"], "label": "Outstanding"}
    assert json.loads(chart_json([], []))["label"] == ""
