"""The servicebook command: one-line errors, exit codes, the demo summary."""

import json
import os
import subprocess
import sys

import pytest

from servicebook.cli import main
from servicebook.demo import DEMO_USERS
from tests.cli_databases import copy_sqlite


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "servicebook", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_bad_port_is_one_clear_line():
    result = run("serve", "--port", "x")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "servicebook serve: error: argument --port: port must be a number from 1 to 65535, not 'x'"
    ]


def test_unreachable_database_is_one_clear_line():
    result = run("serve", env={"DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("servicebook serve: cannot reach the database")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"DEBUG": "0", "SECRET_KEY": "", "SERVICEBOOK_VAR_DIR": str(tmp_path)}
    result = run("demo", env=env)
    assert result.returncode == 2
    assert "SECRET_KEY is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_demo_json_summary(tmp_path, cli_templates):
    """``--reset`` on a migrated database with nothing in it loads the demo (the plain first load
    is what every test database is built with: tests/demo_db.py; ``servicebook demo`` from an
    empty file makes the run's demo template: tests/cli_databases.py); a second run finds it and
    changes nothing."""
    copy_sqlite(cli_templates, "migrated", tmp_path)
    env = {"DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(tmp_path), "DATABASE_URL": ""}
    reset = run("demo", "--reset", "--json", env=env)
    assert reset.returncode == 0, reset.stderr
    summary = json.loads(reset.stdout)
    assert summary["loaded"] is True and summary["customers"] == 9
    assert summary["users"] == len(DEMO_USERS)
    again = json.loads(run("demo", "--json", env=env).stdout)
    assert again["loaded"] is False and again["customers"] == 9


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["nonsense"])
    assert exit_info.value.code == 2


# --- before a provider exists: every command refuses in one line -------------------------------

#: One invocation of every command that needs a provider (arguments that parse; files exist).
NEEDS_PROVIDER = {
    ("import", "tickets"): ["import", "tickets", "{csv}", "--format", "csv"],
    ("import", "outages"): ["import", "outages", "{csv}"],
    ("import", "costs"): ["import", "costs", "{csv}"],
    ("import", "usage"): ["import", "usage", "{csv}", "--format", "csv"],
    ("import", "master"): ["import", "master", "{csv}", "--kind", "customers"],
    ("import", "readings"): ["import", "readings", "{csv}"],
    ("strategy", "compute"): ["strategy", "compute", "2026-10"],
    ("levels", "recompute"): ["levels", "recompute"],
    ("levels", "alerts"): ["levels", "alerts"],
    ("notifications", "digest"): ["notifications", "digest"],
    ("notifications", "daily"): ["notifications", "daily"],
    ("notifications", "send"): ["notifications", "send"],
    ("close-period", None): ["close-period", "2026-05", "--earlier-reason", "test"],
    ("credit-note", None): ["credit-note", "INV-2026-00001", "--amount", "1", "--reason", "x"],
    ("ledger", "verify"): ["ledger", "verify"],
    ("ledger", "export"): ["ledger", "export"],
    ("export", "focus"): [
        "export",
        "focus",
        "--customer",
        "skybridge",
        "--period",
        "2026-10",
        "--format",
        "csv",
    ],
    ("agreements", "renewals"): ["agreements", "renewals", "--on", "2026-10-15"],
    ("rates", "import"): ["rates", "import", "{csv}"],
    ("export", "invoice"): ["export", "invoice", "INV-2026-00001", "--format", "ubl"],
    ("changes", "list"): ["changes", "list"],
    ("changes", "feed"): ["changes", "feed", "skybridge"],
    ("demand", "capacity"): ["demand", "capacity"],
    ("improvement", "propose"): ["improvement", "propose"],
    ("improvement", "list"): ["improvement", "list"],
    ("improvement", "health"): ["improvement", "health"],
    ("improvement", "rank"): ["improvement", "rank"],
    ("improvement", "review-pack"): ["improvement", "review-pack", "skybridge", "2026-05"],
    ("report", "parity"): ["report", "parity", "--period", "2026-10"],
}


def command_pairs() -> set[tuple[str, str | None]]:
    """Every (command, subcommand) the parser knows, read from the parser itself."""
    import argparse

    from servicebook.cli import build_parser

    def subcommands(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices
        return {}

    pairs = set()
    for name, sub in subcommands(build_parser()).items():
        nested = subcommands(sub)
        pairs |= {(name, what) for what in nested} if nested else {(name, None)}
    return pairs


def test_every_command_is_classified_as_needing_a_provider_or_not():
    from servicebook.cli import WITHOUT_PROVIDER

    free = {(c, w) for c, w in command_pairs() if {(c, w), (c, "*")} & WITHOUT_PROVIDER}
    assert command_pairs() - free == set(NEEDS_PROVIDER), (
        "a new command: add it to NEEDS_PROVIDER here, or to cli.WITHOUT_PROVIDER"
    )


#: Runs each command through ``servicebook.cli.main`` in one process (one Django start-up for
#: all of them, not one each) and prints {key: [exit code, stdout, stderr]} as JSON.
DRIVER = """
import contextlib, io, json, sys
from servicebook.cli import main
results = {}
for key, argv in json.loads(sys.argv[1]).items():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv) or 0
        except SystemExit as stop:
            code = stop.code
    results[key] = [code, out.getvalue(), err.getvalue()]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def before_a_provider(tmp_path_factory, cli_templates):
    """Every command of NEEDS_PROVIDER run on a migrated SQLite database with nothing in it
    (a copy of the run's, made by ``servicebook manage migrate``: tests/cli_databases.py)."""
    var = copy_sqlite(cli_templates, "migrated", tmp_path_factory.mktemp("fresh"))
    env = {**os.environ, "DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(var), "DATABASE_URL": ""}
    csv = var / "input.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    commands = {
        " ".join(filter(None, pair)): [arg.replace("{csv}", str(csv)) for arg in argv]
        for pair, argv in NEEDS_PROVIDER.items()
    }
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "pair", sorted(NEEDS_PROVIDER, key=str), ids=lambda p: " ".join(filter(None, p))
)
def test_command_before_a_provider_exists_refuses_in_one_line(before_a_provider, pair):
    command = " ".join(filter(None, pair))
    code, stdout, stderr = before_a_provider[command]
    assert code == 2, (stdout, stderr)
    assert stderr.strip().splitlines() == [
        f"servicebook {command}: no provider is set up yet: run `servicebook demo` "
        "(or create one in the admin) first"
    ]
    assert stdout == ""


def test_command_on_an_unmigrated_database_refuses_in_one_line(tmp_path):
    env = {"DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(tmp_path), "DATABASE_URL": ""}
    result = run("ledger", "verify", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "servicebook ledger verify: the database is not migrated: run `servicebook demo` or "
        "`servicebook manage migrate` first"
    ]
