"""Run calls at the same moment in threads, each on its own database connection (PostgreSQL
only: SQLite's shared in-memory test database cannot take two writers in threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, connections


def at_once(*calls: Callable[[], Any], timeout: float = 120) -> list[Any]:
    """Start ``calls`` together (a barrier), wait for them; their results in completion order.
    Fails with every exception raised, if any, and when a call has not ended after ``timeout``
    seconds (its connection, still in its transaction, is ended with what it waited on, so that
    the test's end can empty the database instead of waiting for its locks)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} call(s) still running after {timeout} s: {end_other_backends()}"
    assert not errors, errors
    return results


def end_other_backends() -> list[tuple]:
    """The other connections to this test database (each test process has its own), with what
    each waits on, ended (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 160),"
            " pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[:-1] for row in cursor.fetchall()]
