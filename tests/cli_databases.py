"""Databases for the tests that run ``servicebook`` in subprocesses: made once per run, copied.

About fifteen tests run the command line in a subprocess on a database of their own (``init``,
``import master``, ``worker``, ``serve``, the benchmarks). Each used to start from an empty
database and pay a whole ``migrate`` (about 40 s of CPU on SQLite) or ``demo``. Those that are
not about migrating now start from a copy of a template made once per run, by the same
commands a user runs, on an empty database:

- ``migrated``: ``servicebook manage migrate`` (every migration applied, nothing else in it);
- ``demo``: ``servicebook demo`` (migrated, the demo provider loaded, its files under the var
  folder).

SQLite: the template is a var folder (``servicebook.sqlite3`` and the demo's files) copied into
the test's own ``SERVICEBOOK_VAR_DIR``. PostgreSQL: a template database, each test's database
made by ``CREATE DATABASE … TEMPLATE`` (a file copy); the templates are dropped when the run ends
(``drop_templates`` in tests/demo_db.py, by their name's prefix). Templates are made in the
run's shared folder under a file lock and keyed by the source code, as the demo's test database
is (tests/demo_db.py).

What still runs the real path on an empty database, in every run: ``servicebook init``
(tests/test_cli_init.py) on SQLite, ``servicebook demo`` on PostgreSQL (tests/test_serve.py), the
close benchmark on both (tests/finance/billing/test_bench_close.py), and the commands that make
these templates. See docs/decisions/0032-cli-test-templates.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.demo_db import locked, source_key

KINDS = {"migrated": ("manage", "migrate", "-v0"), "demo": ("demo",)}
#: the SQLite file under a var folder (settings: ``SERVICEBOOK_VAR_DIR``/servicebook.sqlite3)
SQLITE_FILE = "servicebook.sqlite3"


def _servicebook(args, env: dict) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "servicebook", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"servicebook {' '.join(args)}: {done.stderr[-2000:]}")


def _environment(var: Path, database_url: str) -> dict:
    env = {**os.environ, "DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(var)}
    env["DATABASE_URL"] = database_url
    for name in ("DJANGO_SETTINGS_MODULE", "SERVICEBOOK_USAGE_DIR", "TASKS_BACKEND"):
        env.pop(name, None)
    return env


def sqlite_template(folder: Path, kind: str) -> Path:
    """The run's var folder of ``kind`` on SQLite (made by its command the first time)."""
    key = source_key(f"cli-sqlite-{kind}")
    template = folder / f"cli-{kind}-{key}"
    with locked(folder / f"cli-{kind}-{key}.lock"):
        if not (template / SQLITE_FILE).exists():
            partial = folder / f"cli-{kind}-{key}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            _servicebook(KINDS[kind], _environment(partial, ""))
            partial.rename(template)
    return template


def sqlite_file(folder: Path, kind: str) -> Path:
    """The template's database file (``SERVICEBOOK_BENCH_SQLITE_TEMPLATE`` of the benchmarks)."""
    return sqlite_template(folder, kind) / SQLITE_FILE


def copy_sqlite(folder: Path, kind: str, var: Path) -> Path:
    """Copy the template of ``kind`` into ``var`` (a test's ``SERVICEBOOK_VAR_DIR``)."""
    shutil.copytree(sqlite_template(folder, kind), var, dirs_exist_ok=True)
    return var


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str):
    import psycopg

    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def create_postgres(folder: Path, kind: str, url: str, name: str, var: Path) -> str:
    """Create database ``name`` on the server of ``url`` as a copy of the run's template of
    ``kind`` (made the first time), its files into ``var``; answer the new database's URL.

    The template is named after the run's database (``url``'s) with ``_demo_`` after it, so
    that the end of the run drops it with the demo's own (tests/demo_db.py ``drop_templates``).
    """
    key = source_key(f"cli-postgresql-{kind}")
    run_name = urlsplit(url).path.lstrip("/")
    template = f"{run_name}_demo_cli_{kind}_{key[:8]}"[:63]
    files = folder / f"cli-pg-{kind}-{key}"
    with locked(folder / f"cli-pg-{kind}-{key}.lock"), _admin(url) as admin:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        if admin.execute(query, [template]).fetchone() is None:
            partial = f"{template[:55]}_partial"
            admin.execute(f'DROP DATABASE IF EXISTS "{partial}"')
            admin.execute(f'CREATE DATABASE "{partial}"')
            shutil.rmtree(files, ignore_errors=True)
            files.mkdir()
            try:
                _servicebook(KINDS[kind], _environment(files, with_database(url, partial)))
            except RuntimeError:
                admin.execute(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
                raise
            admin.execute(f'ALTER DATABASE "{partial}" RENAME TO "{template}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    shutil.copytree(files, var, dirs_exist_ok=True)
    return with_database(url, name)


def drop_postgres(url: str, name: str) -> None:
    with _admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
