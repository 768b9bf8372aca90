"""The servicebook command: one-line errors, exit codes, the demo summary."""

import json
import os
import subprocess
import sys

import pytest

from servicebook.cli import main


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


def test_demo_json_summary(tmp_path):
    env = {"DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(tmp_path), "DATABASE_URL": ""}
    first = run("demo", "--json", env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["loaded"] is True and summary["customers"] == 8 and summary["users"] == 6
    again = json.loads(run("demo", "--json", env=env).stdout)
    assert again["loaded"] is False and again["customers"] == 8
    reset = json.loads(run("demo", "--reset", "--json", env=env).stdout)
    assert reset["loaded"] is True and reset["customers"] == 8


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["nonsense"])
    assert exit_info.value.code == 2
