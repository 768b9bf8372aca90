"""``servicebook import readings FILE`` and ``servicebook strategy compute MONTH``."""

from __future__ import annotations

import json

from servicebook.cli import main
from servicebook.strategy.models import Reading


def test_import_readings_reports_each_rejected_row(db, capsys, tmp_path, hosted):
    path = tmp_path / "readings.csv"
    path.write_text(
        f"measure,period,value\n{hosted.pk},2026-11,84\n{hosted.pk},2026-12,lots\n",
        encoding="utf-8",
    )
    assert main(["import", "readings", str(path), "--json"]) == 1  # a row was rejected
    body = json.loads(capsys.readouterr().out)
    assert body["read"] == 2 and body["imported"] == 1
    assert body["rejected"] == [{"row": 3, "field": "value", "reason": "'lots' is not a number"}]
    assert Reading.objects.get(measure=hosted, period="2026-11").source == "imported"


def test_compute_writes_the_months_readings(db, capsys):
    Reading.objects.filter(source="computed", period="2026-10").delete()
    assert main(["strategy", "compute", "2026-10"]) == 0
    out = capsys.readouterr().out
    assert "readings computed for 2026-10" in out
    assert Reading.objects.filter(source="computed", period="2026-10").exists()
