"""``servicebook bench sla``, ``servicebook levels recompute``, ``servicebook import outages``."""

from __future__ import annotations

import json

import pytest

from servicebook.cli import main
from servicebook.core.benchdb import TEMPLATE_ENV
from servicebook.levels.models import Outage, Ticket
from tests.cli_databases import sqlite_file


def test_bench_sla_prints_the_figures(capsys):
    assert main(["bench", "sla", "--n", "3000", "--loop-sample", "30"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["tickets"] == 3000 and figures["loop_tickets"] == 30
    assert {
        "seconds",
        "tickets_per_s",
        "loop_seconds",
        "loop_tickets_per_s",
        "speedup_vs_loop",
    } <= set(figures)
    assert figures["agree_on_sample"] is True


def test_bench_sla_refuses_bad_numbers(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "sla", "--n", "0"])
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_bench_sla_import_leaves_the_database_as_it_was(db, capsys):
    before = Ticket.objects.count()
    assert main(["bench", "sla", "--n", "1000", "--loop-sample", "10", "--import-rows", "400"]) == 0
    figures = json.loads(capsys.readouterr().out)["servicenow_import"]
    assert figures["rows_read"] == figures["rows"] >= 400 and figures["rows_rejected"] == 0
    assert figures["tickets"] > 50
    assert Ticket.objects.count() == before


def test_levels_recompute(db, capsys):
    assert main(["levels", "recompute", "--agreement", "SLA-MKT-2026", "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["agreements"]
    assert summary == {"agreement": "SLA-MKT-2026", "periods": summary["periods"], "breaches": 1}
    assert main(["levels", "recompute", "--agreement", "NOPE"]) == 2
    assert (
        capsys.readouterr().err.strip() == "servicebook levels recompute: unknown agreement 'NOPE'"
    )


def test_import_outages(db, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    path = tmp_path / "outages.csv"
    path.write_text(
        "reference,service,agreement,start,end,planned,description\n"
        "OUT-1,service-desk,CT-MER-2026,2026-07-01T08:00:00+02:00,2026-07-01T09:00:00+02:00,"
        "false,Telephony\n"
        "OUT-2,cloud-hosting,,2026-07-02 01:00,,true,Upgrade still running\n"
        "OUT-3,nowhere,,2026-07-02 01:00,,false,x\n"
        "OUT-4,service-desk,,2026-07-02 01:00,2026-07-01 01:00,false,backwards\n"
    )
    before = Outage.objects.count()
    assert main(["import", "outages", str(path), "--time-zone", "Europe/Paris", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["outages_created"], summary["rows_rejected"], summary["rows_read"]) == (2, 2, 4)
    assert Outage.objects.count() == before + 2
    assert Outage.objects.get(reference="OUT-2").end is None
    assert main(["import", "outages", str(path), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["outages_created"] == 0
    assert Outage.objects.count() == before + 2


def test_bench_import_prints_the_figures(capsys, monkeypatch, cli_templates):
    """A tiny run of ``bench import`` (child process, throwaway SQLite): its JSON keys.

    The throwaway database starts as a copy of the run's demo (tests/cli_databases.py, made by
    the same ``servicebook demo`` on an empty file; ``SERVICEBOOK_BENCH_SQLITE_TEMPLATE``), so
    the child's ``servicebook demo`` finds it loaded instead of migrating for 40 s."""
    monkeypatch.setenv(TEMPLATE_ENV, str(sqlite_file(cli_templates, "demo")))
    assert main(["bench", "import", "--rows", "300"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert "error" not in figures, figures
    assert {"rows", "rows_per_s", "seconds", "peak_rss_mb", "tickets", "meets_target"} <= set(
        figures
    )
    assert figures["rows_read"] == figures["rows"] >= 300 and figures["rows_rejected"] == 0
