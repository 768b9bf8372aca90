"""``servicebook init``: a real provider and its first administrator on an empty database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_databases import copy_sqlite

ARGS = [
    "init",
    "--provider",
    "Acme IT Services",
    "--sector",
    "non_profit",
    "--currency",
    "chf",
    "--country",
    "ch",
    "--admin-user",
    "ada",
    "--admin-email",
    "ada@acme.example",
    "--no-input",
]

CHECK = """
from servicebook.core.models import User
from servicebook.core.roles import roles_of
from servicebook.parties.models import Provider
p = Provider.objects.get()
u = User.objects.get(username="ada")
ok = u.check_password("correct horse battery staple")
print(p.name, p.sector, p.base_currency, p.country, ok, sorted(roles_of(u)), u.is_staff)
"""


def run(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "servicebook.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def env(tmp_path):
    secret = tmp_path / "password.txt"
    secret.write_text("correct horse battery staple\n", encoding="utf-8")
    return (
        {**os.environ, "DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(tmp_path), "DATABASE_URL": ""},
        str(secret),
    )


def test_init_sets_up_the_provider_and_its_administrator_once(env):
    """On an empty SQLite file, as a user's first run: ``init`` migrates it (the real path, kept
    on purpose: the other subprocess tests start from a migrated copy)."""
    environ, secret = env
    done = run(*ARGS, "--admin-password-file", secret, env=environ)
    assert done.returncode == 0, done.stderr
    assert "Set up Acme IT Services" in done.stdout
    # Switzerland is not in the starting table: say so rather than invoice at a silent 0 %
    assert "No VAT rates known for 'CH': add yours under VAT rates." in done.stdout
    checked = run("manage", "shell", "-c", CHECK, env=environ)
    assert checked.stdout.strip().splitlines()[-1] == (
        "Acme IT Services non_profit CHF CH True ['provider_admin'] True"
    )
    again = run(*ARGS, "--admin-password-file", secret, env=environ)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "servicebook init: a provider is set up already: nothing changed"
    ]
    # the provider's commands now run (no "no provider yet" refusal)
    assert run("ledger", "verify", env=environ).returncode == 0


def test_init_refuses_in_one_line_and_writes_nothing(env, cli_templates):
    """On a migrated database with nothing in it (a copy of the run's: tests/cli_databases.py;
    the test above runs ``init`` on an empty file, migrating it as a user's first run does)."""
    environ, secret = env
    copy_sqlite(cli_templates, "migrated", Path(environ["SERVICEBOOK_VAR_DIR"]))
    cases = {
        "--admin-password-file is required with --no-input": ARGS,
        "currency: 'XYZ' is not an ISO 4217 currency code": [
            *ARGS[:6],
            "XYZ",
            *ARGS[7:],
            "--admin-password-file",
            secret,
        ],
        "admin_email: Enter a valid email address.": [
            *ARGS[:12],
            "not-an-address",
            *ARGS[13:],
            "--admin-password-file",
            secret,
        ],
    }
    for reason, argv in cases.items():
        refused = run(*argv, env=environ)
        assert refused.returncode == 2, refused.stdout
        assert refused.stderr.strip().splitlines() == [f"servicebook init: {reason}"]
    empty = run(
        "manage",
        "shell",
        "-c",
        CHECK.split("p = ")[0] + "print(Provider.objects.count())",
        env=environ,
    )
    assert empty.stdout.strip().splitlines()[-1] == "0"
