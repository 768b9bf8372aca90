"""Shared fixtures: the demo provider in the test database (built once per run), users by role,
clients; ``--database-tests-only`` for the PostgreSQL run."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from servicebook.core.models import User
from tests.demo_db import DemoDatabase, drop_templates, shared_folder

#: A test that asks for one of these (itself or through its fixtures) uses the test database.
DATABASE_FIXTURES = {
    "_django_db_helper",  # behind db, transactional_db and the django_db marker
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
    "django_db_setup",
}


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="deselect tests that do not use the database (make test-postgres: they ran on SQLite)",
    )


def uses_database(item) -> bool:
    """Declared database use: pytest-django refuses undeclared use, so none can hide.

    ``django_db_blocker`` is asked for by pytest-django's own autouse fixtures; it counts only
    when the test or one of our fixtures asks for it (to reach the database outside a test).
    """
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres"):
        return True
    names = set(getattr(item, "fixturenames", ()))
    if DATABASE_FIXTURES & names:
        return True
    info = getattr(item, "_fixtureinfo", None)
    if info is None or "django_db_blocker" not in names:
        return False
    if "django_db_blocker" in info.argnames:
        return True
    return any(
        "django_db_blocker" in definition.argnames
        and not definition.func.__module__.startswith("pytest_django")
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
    )


#: The slowest tests (``--durations``: subprocesses on databases of their own, benchmarks, every
#: page for a role), longest first. They run first, so that the two pytest-xdist workers finish
#: together instead of one of them ending the run alone on a long test. A hint for the order
#: only: a test missing here still runs, just in pytest-django's order.
SLOW_FIRST = (
    "tests/web/test_bench_load.py::",
    "tests/test_serve.py::",
    "tests/finance/billing/test_bench_close.py::",
    "tests/levels/test_cli.py::test_bench_import_prints_the_figures",
    "tests/test_cli_init.py::test_init_sets_up_the_provider_and_its_administrator_once",
    "tests/web/test_bench_pages.py::",
    "tests/core/test_worker.py::",
    "tests/test_cli.py::test_demo_json_summary",
    "tests/guards/test_every_page.py::",
    "tests/test_import_master.py::",
    "tests/test_cli_init.py::",
    "tests/notifications/test_mail_worker.py::",
    "tests/finance/usage/test_rating_connect.py::",
    "tests/finance/usage/test_rating.py::test_spark",
)


def _slow_rank(item) -> int:
    for rank, prefix in enumerate(SLOW_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(SLOW_FIRST)


def pytest_collection_modifyitems(config, items):
    items.sort(key=_slow_rank)  # stable: pytest-django's order otherwise (its hook runs first)
    if not config.getoption("--database-tests-only"):
        return
    kept = [item for item in items if uses_database(item)]
    dropped = [item for item in items if not uses_database(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    if hasattr(config, "workeroutput"):  # xdist: tell the controller, which prints it
        config.workeroutput["without_database"] = len(dropped)
    else:
        config.stash[WITHOUT_DATABASE] = len(dropped)


WITHOUT_DATABASE = pytest.StashKey[int]()
DEMO_DATABASE = pytest.StashKey[DemoDatabase]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    count = getattr(node, "workeroutput", {}).get("without_database")
    if count is not None:
        node.config.stash[WITHOUT_DATABASE] = count


def pytest_terminal_summary(terminalreporter, config):
    count = config.stash.get(WITHOUT_DATABASE, None)
    if count is not None:
        terminalreporter.write_line(
            f"--database-tests-only: {count} tests that do not use the database were not run "
            "(they run on SQLite)"
        )


def pytest_sessionfinish(session):
    """Drop this run's PostgreSQL template of the demo (workers leave it to the controller)."""
    if hasattr(session.config, "workerinput"):
        return
    from pytest_django.plugin import blocking_manager_key

    blocker = session.config.stash.get(blocking_manager_key, None)
    if blocker is not None:
        with blocker.unblock():
            drop_templates()


@pytest.fixture(scope="session", autouse=True)
def _isolated_files(tmp_path_factory):
    """Tests write files (usage store, rejects, exports) under a temporary folder, never var/."""
    from django.conf import settings

    root = tmp_path_factory.mktemp("servicebook-var")
    settings.VAR_DIR = root
    settings.SERVICEBOOK_USAGE_DIR = root / "usage"
    return root


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    """Django's advice for fast tests: a cheap hasher (PBKDF2 costs ~0.3 s a sign-in).

    Hashing strength is Django's, not ours to test; the demo users are hashed with it too.
    """
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_modify_db_settings,
    tmp_path_factory,
    _isolated_files,
    _fast_password_hasher,
):
    """The test database with the demo provider; each test rolls back to it.

    Built once per run and copied into every xdist worker (tests/demo_db.py); browser tests
    (transactional: the database is emptied after each) restore it with ``.restore()``.
    Replaces pytest-django's fixture of the same name (``--reuse-db`` is not supported).
    """
    folder = shared_folder(tmp_path_factory, request.config)
    database = DemoDatabase(folder, _isolated_files, verbosity=request.config.option.verbose)
    with django_db_blocker.unblock():
        old_config = database.setup()
    request.config.stash[DEMO_DATABASE] = database
    yield database
    with django_db_blocker.unblock():
        database.teardown(old_config)


@pytest.fixture(scope="session")
def cli_templates(tmp_path_factory, request) -> Path:
    """The run's shared folder of the subprocess tests' template databases
    (tests/cli_databases.py): ``copy_sqlite(cli_templates, "migrated", var)``."""
    return shared_folder(tmp_path_factory, request.config)


@pytest.fixture
def restore_demo():
    """Kept for older tests: every transactional test now gets the demo back after it (see
    ``_demo_back_after_transactional_tests``); asking for this changes nothing."""


#: Set on a transactional test that ran: pytest-django empties the database at its end.
EMPTIED_AT_END = pytest.StashKey[bool]()
#: The database is empty: the demo is loaded back before the next test that uses it.
DEMO_GONE = pytest.StashKey[bool]()
#: The browser suite puts the demo back at each test's start (tests/browser/conftest.py ``demo``).
BROWSER_TESTS = Path(__file__).parent / "browser"


def runs_transactional(item) -> bool:
    """Whether pytest-django runs ``item`` as a TransactionTestCase (the database emptied after)."""
    from pytest_django.fixtures import validate_django_db

    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        if transaction or reset_sequences:
            return True
    names = set(getattr(item, "fixturenames", ()))
    return bool({"transactional_db", "live_server", "django_db_reset_sequences"} & names)


@pytest.fixture(autouse=True)
def _demo_back_after_transactional_tests(request):
    """A transactional test (writers in threads: their commits are real) leaves an empty database:
    pytest-django flushes it when the test's ``_django_db_helper`` is torn down. The demo is loaded
    back after *every* fixture of the test is torn down (``pytest_runtest_teardown`` below), so
    after that flush whatever the order of the fixtures: a reload done by a fixture ran before the
    flush when a module's ``django_db`` marker set the database up first, and the next test found
    an empty database (no accounts: two posting threads both created the chart and one waited on
    the other's account rows)."""
    node = request.node
    if BROWSER_TESTS not in Path(str(node.path)).parents and runs_transactional(node):
        node.stash[EMPTIED_AT_END] = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        if item.stash.get(EMPTIED_AT_END, False):
            item.config.stash[DEMO_GONE] = True
        # not before a test without the database (pytest-django runs those last), nor at the end
        if item.config.stash.get(DEMO_GONE, False) and nextitem and uses_database(nextitem):
            _load_demo_back(item.config)
            item.config.stash[DEMO_GONE] = False


def _load_demo_back(config) -> None:
    from django.conf import settings
    from pytest_django.plugin import blocking_manager_key

    database = config.stash[DEMO_DATABASE]
    with config.stash[blocking_manager_key].unblock():
        database.restore(settings.VAR_DIR)


@pytest.fixture
def users(db) -> dict[str, User]:
    """The demo users by username: admin, manager, finance, change, internal, external."""
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def client_for(db):
    """``client_for(user)`` → a DRF APIClient authenticated as that user."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def web_for(client, db):
    """``web_for(user)`` → Django's test client signed in as that user."""

    def make(user: User):
        client.force_login(user)
        return client

    return make


def _logging_state() -> dict:
    """Every logger's level and whether it is disabled (the root's too)."""
    import logging

    loggers = {"": logging.getLogger()}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            loggers[name] = logger
    return {name: (logger.level, logger.disabled) for name, logger in loggers.items()}


@pytest.fixture(autouse=True)
def _logging_left_as_found():
    """Each test starts with the process' logging as pytest set it up.

    A command run in-process configures logging as a terminal gets it (``django.setup``): the
    root's handlers become a console handler on that test's stderr. Left there, a later test in
    the same worker saw on its stderr whatever a library logged (the PDF renderer's font
    chatter), depending on which worker ran what before it. So the root's handlers are put back
    after every test; a test that leaves a logger's level changed (a library imported late
    counts only when left at DEBUG) fails, its levels put back too."""
    import logging

    from _pytest.logging import LogCaptureHandler  # pytest's own, added and removed per phase

    root = logging.getLogger()
    handlers = [h for h in root.handlers if not isinstance(h, LogCaptureHandler)]
    before = _logging_state()
    yield
    root.handlers = handlers + [h for h in root.handlers if isinstance(h, LogCaptureHandler)]
    after = _logging_state()
    changed = sorted(
        name or "root"
        for name, state in after.items()
        if (state != before[name] if name in before else logging.DEBUG <= state[0] < logging.INFO)
    )
    if not changed:
        return
    for name, (level, disabled) in before.items():
        logger = logging.getLogger(name or None)
        logger.setLevel(level)
        logger.disabled = disabled
    pytest.fail(f"the test changed the logging configuration of: {', '.join(changed[:10])}")
