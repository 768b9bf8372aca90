"""Named locks held until the current transaction ends: work that must not run twice at once
(two imports of one ticket source by two workers) takes one before it reads what it will write.

PostgreSQL: a transaction-level advisory lock on the name (``pg_advisory_xact_lock``), so a second
transaction waits until the first commits and then sees its rows. SQLite: every transaction
already takes the database's write lock when it begins (``transaction_mode`` IMMEDIATE in the
settings), so nothing more is needed.
"""

from __future__ import annotations

from django.db import connection, transaction


def hold(name: str) -> None:
    """Wait for, then hold until commit or rollback, the lock called ``name``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"the lock {name!r} is held by a transaction: call hold() inside one")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
