"""``servicebook import usage`` and ``servicebook bench rating``: JSON, one-line refusals."""

from __future__ import annotations

import json

import pytest

from servicebook.cli import main
from servicebook.finance.usage.models import UsageImport
from tests.finance.usage.helpers import SMALL_SAMPLE, replay, usage_csv

pytestmark = pytest.mark.django_db
ROWS = [
    "c1,marketing,vm-hour,2,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z",
    "c2,marketing,vm-hour,x,vm_hour,2026-06-03T00:00:00Z,2026-06-03T01:00:00Z",
]


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"


def run(capsys, *args):
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_usage_json_and_text(capsys, tmp_path):
    path = usage_csv(tmp_path / "u.csv", ROWS)
    code, out, _ = run(capsys, "import", "usage", str(path), "--format", "csv", "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["rows_read"], result["rows_imported"], result["rows_rejected"]) == (2, 1, 1)
    assert result["rejects"] and result["quantity_totals"] == {"vm_hour": "2.000000"}
    code, out, _ = run(capsys, "import", "usage", str(path), "--format", "csv")
    assert code == 0 and "already imported" in out and "rows_rejected 1" in out


def test_import_focus_with_exchange_rate(capsys, tmp_path):
    bill = replay(SMALL_SAMPLE, tmp_path / "bill.csv", "2019-06")  # no stored rate for 2019
    code, _, err = run(capsys, "import", "usage", str(bill), "--format", "focus")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "exchange rate" in err
    assert "No EUR/USD exchange rate on or before 2019-06-30" in err
    code, out, _ = run(
        capsys,
        "import",
        "usage",
        str(bill),
        "--format",
        "focus",
        "--exchange-rate",
        "0.92",
        "--cost",
        "BilledCost",
        "--shared",
        "spread",
    )
    assert code == 0
    assert "total USD 1.0598035934" in out and "allocated" in out and "shared 0" in out
    assert UsageImport.objects.filter(filename="bill.csv", shared_mode="spread").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["import", "usage", "missing.csv", "--format", "csv"],
        ["import", "usage", "x.csv", "--format", "xml"],
        ["import", "usage", "x.csv", "--format", "csv", "--period", "2026-13"],
        ["bench", "rating", "--n", "0"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args):
    code, _, err = run(capsys, *args)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_bench_rating_prints_the_figures(capsys):
    code, out, _ = run(capsys, "bench", "rating", "--n", "3000", "--loop-sample", "300")
    assert code == 0
    result = json.loads(out)
    for key in (
        "records",
        "seconds",
        "records_per_s",
        "bare_duckdb_seconds",
        "ratio_vs_bare_duckdb",
        "loop_records_per_s",
        "speedup_vs_loop",
    ):
        assert key in result
    assert result["records"] == 3000


def test_export_focus_writes_the_same_file_as_the_api(capsys, tmp_path):
    from servicebook.finance.billing import selectors
    from servicebook.parties.models import Customer

    out = tmp_path / "sky.csv"
    argv = ["export", "focus", "--customer", "skybridge", "--period", "2026-10"]
    code, stdout, _ = run(capsys, *argv, "--format", "csv", "-o", str(out), "--json")
    assert code == 0 and json.loads(stdout)["lines"] > 0
    customer = Customer.objects.get(code="skybridge")
    rows = selectors.customer_charge_rows(customer, "2026-10")
    assert out.read_bytes() == selectors.focus_file(rows, "csv")
    assert b"INV-" in out.read_bytes() and b"T00:00:00Z" in out.read_bytes()
    parquet = tmp_path / "sky.parquet"
    code, _, _ = run(capsys, *argv, "--format", "parquet", "-o", str(parquet))
    assert code == 0 and parquet.read_bytes()[:4] == b"PAR1"
    code, _, err = run(
        capsys, "export", "focus", "--customer", "nobody", "--period", "2026-10", "--format", "csv"
    )
    assert code == 2 and err.strip().splitlines() == [
        "servicebook export focus: no customer with code 'nobody'"
    ]
    code, _, err = run(capsys, *argv[:-1], "2026-13", "--format", "csv")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "2026-13" in err
