"""Where a benchmark's throwaway SQLite database starts: empty, or a copy of a given file.

The benchmarks that build a throwaway SQLite database in a child process (``servicebook bench
import``, ``bench pages``) start it empty and migrate it (``bench import`` also loads the demo),
as a user's first run does. ``SERVICEBOOK_BENCH_SQLITE_TEMPLATE=FILE`` starts it as a copy of
FILE instead (SQLite's backup API): the benchmark then runs the same steps, which find their
work done (``migrate`` applies nothing; ``demo`` finds the demo loaded). The test suite uses it
to hand them a database migrated once per run (tests/cli_databases.py); the figures of such a
run exclude nothing they report (migrating is never timed). Unset: an empty database.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

TEMPLATE_ENV = "SERVICEBOOK_BENCH_SQLITE_TEMPLATE"


def start_database(database: Path) -> None:
    """Copy the template named by ``SERVICEBOOK_BENCH_SQLITE_TEMPLATE`` to ``database`` (a path
    that does not exist yet); nothing when the variable is unset or the file is there."""
    template = os.environ.get(TEMPLATE_ENV)
    if not template or database.exists():
        return
    if not Path(template).is_file():
        raise FileNotFoundError(f"{TEMPLATE_ENV}: no such file: {template}")
    source, target = sqlite3.connect(template), sqlite3.connect(database)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
