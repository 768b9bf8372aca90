"""Usage and FOCUS imports (issue 12): a row that is not UTF-8 text, or a row of 5 MB (Arrow's
"straddling object"), goes to the rejects file with its row number (and the limit); the rest of
the file is imported and rows read = imported + skipped + rejected. CLI and API/upload alike."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.urls import reverse

from servicebook.cli import main
from servicebook.finance.usage.reading import ROW_LIMIT, read_raw
from tests.finance.usage.helpers import HEADER, SMALL_SAMPLE, replay

pytestmark = pytest.mark.django_db

BIG = 5 * 1024 * 1024
ROW = "{id},marketing,vm-hour,2,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z"


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    return tmp_path / "usage"


def usage_file(path: Path) -> Path:
    """Row 1 good, row 2 not UTF-8 (Latin-1 é), row 3 a 5 MB field, row 4 good."""
    lines = [
        HEADER.encode(),
        ROW.format(id="u1").encode(),
        ROW.format(id="u2-caf\xe9").encode("latin-1"),
        ROW.format(id="u3-" + "x" * BIG).encode(),
        ROW.format(id="u4").encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def focus_file(path: Path) -> Path:
    """Five FOCUS rows: row 2 not UTF-8, row 4 with a 5 MB description."""
    replay(
        SMALL_SAMPLE,
        path,
        "2026-06",
        rows=5,
        row1={"ChargeDescription": "NOT-UTF8-HERE"},
        row3={"ChargeDescription": "d" * BIG},
    )
    path.write_bytes(path.read_bytes().replace(b"NOT-UTF8-HERE", b"caf\xe9 \xff"))
    return path


def rejects(path: str) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def check(summary: dict, read: int, rejected_rows: list[int], rejects_rows: list[dict]):
    assert summary["rows_read"] == read
    assert summary["rows_rejected"] == len(rejected_rows)
    assert summary["rows_read"] == (
        summary["rows_imported"] + summary["rows_skipped_duplicate"] + summary["rows_rejected"]
    )
    assert summary["rows_imported"] == read - len(rejected_rows)
    numbers = [int(r["row_number"]) for r in rejects_rows]
    assert numbers == rejected_rows
    reasons = {int(r["row_number"]): r["reason"] for r in rejects_rows}
    first, second = rejected_rows
    assert reasons[first].startswith(f"row {first}: not UTF-8 text")
    assert f"row {second}: " in reasons[second]
    assert f"over the limit of {ROW_LIMIT:,} bytes" in reasons[second]
    assert "straddling" not in " ".join(reasons.values())
    assert all(len(r["reason"]) < 1000 for r in rejects_rows)  # not the 5 MB text back


def run_cli(capsys, *args):
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_usage_csv_on_the_cli(capsys, tmp_path):
    path = usage_file(tmp_path / "u.csv")
    code, out, err = run_cli(capsys, "import", "usage", str(path), "--format", "csv", "--json")
    assert code == 0, err
    summary = json.loads(out)
    check(summary, 4, [2, 3], rejects(summary["rejects"]))


def test_usage_csv_through_the_api(users, client_for, tmp_path):
    client = client_for(users["finance"])
    path = usage_file(tmp_path / "u.csv")
    with path.open("rb") as fh:
        response = client.post(
            reverse("usageimport-list"), {"file": fh, "format": "csv"}, format="multipart"
        )
    assert response.status_code == 201, response.content[:500]
    summary = response.json()
    body = client.get(reverse("usageimport-rejects", args=[summary["id"]])).content.decode()
    summary.setdefault("rows_skipped_duplicate", summary.get("rows_skipped", 0))
    check(summary, 4, [2, 3], list(csv.DictReader(io.StringIO(body))))


FOCUS_ARGS = ["--format", "focus", "--exchange-rate", "0.92", "--cost", "BilledCost"]


def test_focus_on_the_cli(capsys, tmp_path):
    path = focus_file(tmp_path / "bill.csv")
    code, out, err = run_cli(capsys, "import", "usage", str(path), *FOCUS_ARGS, "--json")
    assert code == 0, err
    summary = json.loads(out)
    check(summary, 5, [2, 4], rejects(summary["rejects"]))


def test_focus_through_the_api(users, client_for, tmp_path):
    client = client_for(users["finance"])
    path = focus_file(tmp_path / "bill.csv")
    with path.open("rb") as fh:
        response = client.post(
            reverse("usageimport-list"),
            {"file": fh, "format": "focus", "exchange_rate": "0.92", "cost_basis": "BilledCost"},
            format="multipart",
        )
    assert response.status_code == 201, response.content[:500]
    summary = response.json()
    body = client.get(reverse("usageimport-rejects", args=[summary["id"]])).content.decode()
    summary.setdefault("rows_skipped_duplicate", summary.get("rows_skipped", 0))
    check(summary, 5, [2, 4], list(csv.DictReader(io.StringIO(body))))


def test_without_a_rejects_list_the_file_is_refused_naming_the_row(tmp_path):
    path = usage_file(tmp_path / "u.csv")
    with pytest.raises(ValueError, match=r"u\.csv: row 2: not UTF-8 text"):
        read_raw(path)
    path.write_bytes(
        b"\n".join([HEADER.encode(), ROW.format(id="u1-" + "x" * BIG).encode()]) + b"\n"
    )
    with pytest.raises(ValueError, match=rf"row 1: .*over the limit of {ROW_LIMIT:,} bytes"):
        read_raw(path)


def test_a_header_that_is_not_utf8_is_one_clear_line(capsys, tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(HEADER.replace("unit", "unit\xe9").encode("latin-1") + b"\n")
    code, _, err = run_cli(capsys, "import", "usage", str(path), "--format", "csv")
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "header row is not UTF-8" in err
