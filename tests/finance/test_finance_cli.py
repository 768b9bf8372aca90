"""The finance commands: one-line refusals, JSON summaries, idempotent close, verify exit code."""

from __future__ import annotations

import json

import pytest

from servicebook.cli import main
from servicebook.finance.ledger.models import Period

pytestmark = pytest.mark.django_db


def test_close_period_command_and_its_rerun(capsys):
    assert main(["close-period", "2026-08", "--dry-run", "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["dry_run"] and not Period.objects.filter(period="2026-08").exists()
    assert main(["close-period", "2026-08", "--json"]) == 2  # 2026-10 is closed: why now?
    assert "needs a confirmation with a reason" in capsys.readouterr().err
    assert main(["close-period", "2026-08", "--json", "--earlier-reason", "held back"]) == 0
    closed = json.loads(capsys.readouterr().out)
    assert closed["changed"] and closed["totals"] == planned["totals"]
    assert main(["close-period", "2026-08"]) == 0
    assert "nothing changed" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["close-period", "2026-13"], ["close-period", "2030-01"]])
def test_close_period_bad_input_is_one_line(capsys, args):
    try:
        code = main(args)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "close-period" in err


def test_ledger_verify_and_export(capsys, tmp_path):
    assert main(["ledger", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    target = tmp_path / "journal.csv"
    assert main(["ledger", "export", "--period", "2026-10", "-o", str(target)]) == 0
    assert target.read_text().startswith("entry,period")
