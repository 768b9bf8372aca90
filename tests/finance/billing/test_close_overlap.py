"""PostgreSQL: a close in a transaction of its own gathers the next chunk's agreements and lines
on a second connection while it writes the chunk before (write._Gatherer): it writes what a
close on one connection writes, and a failure leaves nothing, with no thread left behind."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from servicebook.finance.billing import services, write
from servicebook.finance.ledger.models import Period
from servicebook.finance.ledger.verify import verify as verify_ledger
from tests.finance.billing.test_close_chunks import (
    FREE,
    LATE,
    _counts,
    _Undo,
    _written,
    crash_after_the_second_chunk,
)

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="a second connection sees committed rows only"
)


def _gathered_in_threads(monkeypatch) -> list[int]:
    """The threads that gathered a chunk ahead (write._Gatherer), as they do."""
    threads: list[int] = []
    gather = write._Gatherer._gather

    def gather_and_tell(self, chunk):
        threads.append(threading.get_ident())
        return gather(self, chunk)

    monkeypatch.setattr(write._Gatherer, "_gather", gather_and_tell)
    return threads


def test_a_close_gathering_chunks_on_a_second_connection_writes_the_same(
    restore_demo, transactional_db, monkeypatch
):
    """A close in a transaction of its own gathers the next chunk's agreements and lines on a
    second connection while it writes: the same documents, numbers and entries as a close on
    one connection (inside a caller's transaction, which it does not gather ahead in)."""
    from servicebook.core.models import User

    finance = User.objects.get(username="finance")
    monkeypatch.setattr(write, "CHUNK", 1)
    monkeypatch.setattr(write, "OVERLAP", True)
    threads = _gathered_in_threads(monkeypatch)
    with pytest.raises(_Undo), transaction.atomic():
        one = services.close_period(actor=finance, period=FREE, earlier_reason=LATE)
        expected = _written(FREE)
        raise _Undo
    assert not threads and connection.vendor == "postgresql"  # a caller's transaction: one
    result = services.close_period(actor=finance, period=FREE, earlier_reason=LATE)
    assert threads and threading.get_ident() not in threads
    assert _written(FREE) == expected
    for key in ("statements", "invoices", "lines", "totals", "entries"):
        assert result[key] == one[key]
    assert verify_ledger()["ok"]
    assert not [t for t in threading.enumerate() if t.name.startswith("close-gather")]


def test_a_failure_while_a_chunk_is_gathered_ahead_leaves_nothing(
    restore_demo, transactional_db, monkeypatch
):
    from servicebook.core.models import User

    finance = User.objects.get(username="finance")
    before = _counts()
    monkeypatch.setattr(write, "CHUNK", 2)
    monkeypatch.setattr(write, "OVERLAP", True)
    threads = _gathered_in_threads(monkeypatch)
    done_chunks = crash_after_the_second_chunk(monkeypatch)
    with pytest.raises(RuntimeError):
        services.close_period(actor=finance, period=FREE, earlier_reason=LATE)
    assert done_chunks == [2, 4] and len(threads) >= 2
    assert _counts() == before
    assert not Period.objects.filter(period=FREE, status="closed").exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("close-gather")]
