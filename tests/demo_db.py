"""The demo provider's test database: built once per run, copied into every test process.

Building it (every migration, then every app's demo step through the services) costs about 15 s
of CPU. The suite runs in several pytest-xdist workers, and ``make test`` runs the browser tests
after the SQLite suite; each needs the same database. The first process to need it builds it and
keeps a copy in a folder shared by the run; every other process restores that copy:

- SQLite: the in-memory test database is saved to a file with SQLite's backup API and restored
  the same way (milliseconds), as Django's own parallel test runner does;
- PostgreSQL: the first worker's database becomes a template, the others are created from it
  (``CREATE DATABASE … TEMPLATE``, a file copy); the template is dropped when the run ends.

The demo is built with ``VAR_DIR`` in the shared folder, so the paths it records (rejected rows)
stay valid in every process; its files (the usage store) are copied into each process's own
``VAR_DIR``. A copy is keyed by the source code it was built from: a stale copy is never
restored. See docs/decisions/0014-fast-test-runs.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "servicebook"
#: Set by ``make test`` so that the SQLite suite and the browser tests share one copy.
SHARED_ENV = "SERVICEBOOK_TEST_SNAPSHOTS"


def shared_folder(tmp_path_factory, config) -> Path:
    """The folder every process of this run sees: the env var, else the xdist workers' parent."""
    if os.environ.get(SHARED_ENV):
        folder = Path(os.environ[SHARED_ENV])
    elif hasattr(config, "workerinput"):
        folder = tmp_path_factory.getbasetemp().parent  # pytest-of-user/pytest-N, one per run
    else:
        folder = tmp_path_factory.getbasetemp()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def source_key(vendor: str) -> str:
    """Which code built a copy: every source file's path, size and modification time."""
    digest = hashlib.sha256(vendor.encode())
    for path in sorted(SRC.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path.relative_to(SRC)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def locked(path: Path):
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class DemoDatabase:
    """Set up this process's test database with the demo in it; ``restore()`` for browser tests."""

    def __init__(self, folder: Path, var_dir: Path, verbosity: int = 0):
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        self.folder = folder
        self.var_dir = var_dir
        self.verbosity = verbosity
        self.key = source_key(self.vendor)
        self.copy = folder / f"demo-{self.key}.sqlite3"
        self.var_copy = folder / f"demo-{self.key}-var"
        #: named after the configured database, before the test database replaces it
        self.template = template_name(self.key) if self.vendor == "postgresql" else ""
        self.built_here = False

    # -- setup and teardown of the session's database ---------------------------------------

    def setup(self) -> list:
        """Create the test database with the demo; answer Django's old config for teardown."""
        with locked(self.folder / f"demo-{self.key}.lock"):
            if self.vendor == "sqlite":
                return self._setup_sqlite()
            if self.vendor == "postgresql":
                return self._setup_postgresql()
            return self._build(self._create(), self.var_dir)  # other engines: in every process

    def teardown(self, old_config: list) -> None:
        from django.test.utils import teardown_databases

        teardown_databases(old_config, verbosity=self.verbosity)

    def _create(self, *, migrate: bool = True) -> list:
        from django.test.utils import setup_databases

        test = self.connection.settings_dict.setdefault("TEST", {})
        before = test.get("MIGRATE", True)
        test["MIGRATE"] = before and migrate  # False: tables from the models, no migrations
        try:
            return setup_databases(
                verbosity=self.verbosity,
                interactive=False,
                aliases={"default"},
                serialized_aliases=set(),  # no test asks for serialized_rollback
            )
        finally:
            test["MIGRATE"] = before

    def _build(self, old_config: list, var_dir: Path | None = None) -> list:
        """Load the demo with its files in ``var_dir`` (default: the shared copy, emptied)."""
        from django.conf import settings

        from servicebook.demo import load_demo

        if var_dir is None:
            shutil.rmtree(self.var_copy, ignore_errors=True)
            var_dir = self.var_copy
        before = settings.VAR_DIR, settings.SERVICEBOOK_USAGE_DIR
        settings.VAR_DIR, settings.SERVICEBOOK_USAGE_DIR = var_dir, var_dir / "usage"
        try:
            load_demo()
        finally:
            settings.VAR_DIR, settings.SERVICEBOOK_USAGE_DIR = before
        self.built_here = True
        return old_config

    def _setup_sqlite(self) -> list:
        if not self.copy.exists():
            old_config = self._build(self._create())
            partial = self.copy.with_suffix(".partial")
            with sqlite3.connect(partial) as target:
                self._raw().backup(target)
            target.close()
            partial.rename(self.copy)
            self._copy_files(self.var_dir)
            return old_config
        old_config = self._create(migrate=False)  # replaced whole by the copy just below
        self.restore(self.var_dir)
        return old_config

    def restore(self, var_dir: Path) -> None:
        """Put the demo back, its files into ``var_dir`` (SQLite: the copy; PostgreSQL: the
        database made again from the run's template; else: load it again)."""
        if self.vendor == "postgresql" and self._exists(self.template):
            self._recreate_postgresql(var_dir)
            return
        if self.vendor != "sqlite":
            from servicebook.demo import load_demo

            load_demo()
            return
        source = sqlite3.connect(self.copy)
        try:
            source.backup(self._raw())
        finally:
            source.close()
        forget_cached_rows()
        self._copy_files(var_dir)

    def _raw(self):
        self.connection.ensure_connection()
        return self.connection.connection

    # -- PostgreSQL: a template database -----------------------------------------------------

    def _setup_postgresql(self) -> list:
        template = self.template
        if not self._exists(template):
            old_config = self._build(self._create())
            built = self.connection.settings_dict["NAME"]
            self.connection.close()  # a template must have no one connected
            self._sql(f"CREATE DATABASE {self._quote(template)} TEMPLATE {self._quote(built)}")
            self._copy_files(self.var_dir)
            return old_config
        from django.conf import settings

        old_name = self.connection.settings_dict["NAME"]
        name = self.connection.creation._get_test_db_name()  # test_<name>_gw1 under xdist
        self._sql(f"DROP DATABASE IF EXISTS {self._quote(name)}")
        self._sql(f"CREATE DATABASE {self._quote(name)} TEMPLATE {self._quote(template)}")
        self.connection.close()
        settings.DATABASES["default"]["NAME"] = name
        self.connection.settings_dict["NAME"] = name
        forget_cached_rows()
        self._copy_files(self.var_dir)
        return [(self.connection, old_name, True)]  # teardown_databases drops it

    def _recreate_postgresql(self, var_dir: Path) -> None:
        """This process's database dropped and made again from the template (a file copy, about
        a second; loading the demo again took 6-12 s). Whoever is still connected is ended."""
        name = self.connection.settings_dict["NAME"]
        template = self.template
        self.connection.close()
        with locked(self.folder / f"demo-{self.key}.lock"):  # no CREATE from it meanwhile
            self._sql(f"DROP DATABASE IF EXISTS {self._quote(name)} WITH (FORCE)")
            self._sql(f"CREATE DATABASE {self._quote(name)} TEMPLATE {self._quote(template)}")
        forget_cached_rows()
        self._copy_files(var_dir)

    def _exists(self, database: str) -> bool:
        with self.connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            return cursor.fetchone() is not None

    def _sql(self, statement: str) -> None:
        with self.connection._nodb_cursor() as cursor:
            cursor.execute(statement)

    def _quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    def _copy_files(self, var_dir: Path) -> None:
        if self.var_copy.exists():
            shutil.copytree(self.var_copy, var_dir, dirs_exist_ok=True)


def forget_cached_rows() -> None:
    """Content types are cached by id in the process; the copy may number them differently."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


def template_name(key: str) -> str:
    """The PostgreSQL template of this run: the configured database's name, then the code's key."""
    from django.conf import settings

    return f"{settings.DATABASES['default']['NAME']}_demo_{key[:8]}"[:63]


def drop_templates() -> None:
    """At the end of a run (xdist's controller, or the only process): drop this run's templates."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    prefix = f"{settings.DATABASES['default']['NAME']}_demo_"
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE left(datname, %s) = %s", [len(prefix), prefix]
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
