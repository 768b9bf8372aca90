"""Python's cyclic garbage collector during bulk work (a ticket import, a period close).

Such work allocates millions of short-lived tuples, dicts and rows, and keeps a few hundred
thousand of them alive at once (a chunk being written). Left at its default, the collector runs
a young collection every 700 allocations and walks the older generations after, again and again
over the same live objects: a tenth of a 150,000-row ticket import, a fifth of a period close's
Python time. :func:`fewer_collections` raises the first threshold for the block instead;
collections still run, so memory stays bounded.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations between two young collections during bulk work (Python's default is 700).
BULK_GC_THRESHOLD = 50_000

_lock = threading.Lock()
_users = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with the garbage collector's first threshold at :data:`BULK_GC_THRESHOLD`;
    the setting in force before comes back when the last such block of the process ends (bulk
    work may run in several threads at once: the setting is the process's)."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(_saved[0], BULK_GC_THRESHOLD), *_saved[1:])
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                gc.set_threshold(*_saved)
