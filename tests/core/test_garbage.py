"""Bulk work (an import, a close) lets the garbage collector run less often, and puts its
setting back after."""

from __future__ import annotations

import gc
import threading

from servicebook.core.garbage import BULK_GC_THRESHOLD, fewer_collections


def test_fewer_collections_raises_the_first_threshold_and_restores_it():
    before = gc.get_threshold()
    seen = []

    @fewer_collections()
    def nested(depth: int) -> None:
        seen.append(gc.get_threshold()[0])
        if depth:
            nested(depth - 1)

    nested(2)
    assert seen == [max(before[0], BULK_GC_THRESHOLD)] * 3
    assert gc.get_threshold() == before


def test_overlapping_imports_in_threads_restore_the_setting_once_both_end():
    before = gc.get_threshold()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with fewer_collections():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    with fewer_collections():
        thread.start()
        inside.wait(5)
    assert gc.get_threshold()[0] == max(before[0], BULK_GC_THRESHOLD)  # the other still runs
    leave.set()
    thread.join(5)
    assert gc.get_threshold() == before
