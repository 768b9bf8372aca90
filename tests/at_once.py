"""Run calls at the same moment in threads, each on its own database connection (PostgreSQL
only: SQLite's shared in-memory test database cannot take two writers in threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections


def at_once(*calls: Callable[[], Any], timeout: float = 120) -> list[Any]:
    """Start ``calls`` together (a barrier), wait for them; their results in completion order.
    Fails with every exception raised, if any."""
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

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not errors, errors
    return results
