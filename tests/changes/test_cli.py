"""``servicebook changes``, ``servicebook demand`` and ``servicebook bench ical``."""

from __future__ import annotations

import json

import pytest

from servicebook.cli import main
from tests.changes.test_ical import parse


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_changes_list_json(db, capsys):
    assert main(["changes", "list", "--customer", "skybridge", "--json"]) == 0
    body = _json(capsys)
    assert body["count"] == 2
    assert {c["title"] for c in body["changes"]} == {
        "Storage tier upgrade to NVMe",
        "Hypervisor security patches",
    }


def test_changes_feed_writes_a_valid_calendar(db, tmp_path, capsys):
    target = tmp_path / "marketing.ics"
    assert main(["changes", "feed", "marketing", "--output", str(target), "--json"]) == 0
    assert _json(capsys)["events"] >= 2
    assert len(parse(target.read_bytes().decode("utf-8"))) >= 2


@pytest.mark.parametrize(
    "argv",
    [
        ["changes", "feed", "nope"],
        ["changes", "list", "--status", "bogus"],
        ["demand", "npv", "--investment", "x", "--benefit", "1"],
        ["demand", "npv", "--investment", "1", "--benefit", "1", "--years", "0"],
        ["bench", "ical", "--n", "0"],
    ],
)
def test_bad_input_exits_non_zero_in_one_line(db, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("servicebook ") and "\n" not in err


def test_demand_commands_print_json(db, capsys):
    assert (
        main(
            [
                "demand",
                "npv",
                "--investment",
                "800000",
                "--benefit",
                "180000",
                "--years",
                "7",
                "--json",
            ]
        )
        == 0
    )
    assert _json(capsys)["npv"] == "137146.61"
    assert main(["demand", "capacity", "--json"]) == 0
    pools = {p["pool"]: p for p in _json(capsys)["pools"]}
    assert pools["Infrastructure engineering"]["reserved"] == "1200.00"
    assert main(["bench", "ical", "--n", "200"]) == 0
    assert _json(capsys)["events"] == 200
