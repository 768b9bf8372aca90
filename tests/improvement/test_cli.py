"""``servicebook improvement propose|list|health|review-pack``."""

from __future__ import annotations

import json

import pytest

from servicebook.agreements.models import Agreement
from servicebook.cli import main
from servicebook.improvement.models import Improvement
from servicebook.levels.models import Attainment


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_list_json(db, capsys):
    assert main(["improvement", "list", "--customer", "skybridge", "--json"]) == 0
    body = _json(capsys)
    assert body["count"] == 2
    assert {row["status"] for row in body["improvements"]} == {"verified", "in_progress"}


def test_propose_creates_once(db, capsys):
    contract = Agreement.objects.get(reference="CT-PAC-2026", status="active")
    for period in ("2026-08", "2026-10"):
        row = Attainment.objects.filter(agreement=contract, period=period).first()
        Attainment.objects.filter(pk=row.pk).update(met=False)
    Improvement.objects.filter(agreement=contract).update(status="verified", measured_value=1)
    assert main(["improvement", "propose", "--period", "2026-10", "--json"]) == 0
    body = _json(capsys)
    assert body["count"] == 1 and body["created"][0]["customer"] == "pacific"
    assert main(["improvement", "propose", "--period", "2026-10", "--json"]) == 0
    assert _json(capsys)["count"] == 0


def test_health_json(db, capsys):
    assert (
        main(["improvement", "health", "--period", "2026-10", "--kind", "external", "--json"]) == 0
    )
    rows = _json(capsys)["customers"]
    assert {row["kind"] for row in rows} == {"external"}
    assert rows[0]["rating"] == "at_risk"


def test_review_pack_pdf_and_json(db, tmp_path, capsys):
    target = tmp_path / "pack.pdf"
    assert main(["improvement", "review-pack", "marketing", "2026-10", "-o", str(target)]) == 0
    assert target.read_bytes().startswith(b"%PDF")
    capsys.readouterr()
    assert main(["improvement", "review-pack", "meridian", "2026-10", "--json"]) == 0
    body = _json(capsys)
    assert body["charges"]["basis"] == "price" and "cost" not in json.dumps(body["charges"])


@pytest.mark.parametrize(
    "argv",
    [
        ["improvement", "propose", "--period", "2026/10"],
        ["improvement", "list", "--status", "bogus"],
        ["improvement", "list", "--customer", "nope"],
        ["improvement", "health", "--kind", "partner"],
        ["improvement", "review-pack", "nope", "2026-10"],
        ["improvement", "review-pack", "marketing", "October"],
    ],
)
def test_bad_input_is_refused_in_one_line(db, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("servicebook improvement") and "\n" not in err
