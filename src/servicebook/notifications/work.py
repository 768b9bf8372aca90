"""My work: what waits for a user, gathered from every app through ``ports.work_items``."""

from __future__ import annotations

import datetime as dt

from servicebook import ports
from servicebook.ports import WorkItem


def since(moment: dt.date | dt.datetime | None) -> dt.datetime:
    """A date or time as an aware time to sort items by (a date: its midnight, UTC)."""
    if moment is None:
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    if isinstance(moment, dt.datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(moment, dt.time.min, tzinfo=dt.UTC)


def my_work(user) -> list[WorkItem]:
    """Everything waiting for ``user``, oldest first."""
    if not getattr(user, "is_authenticated", False):
        return []
    items: list[WorkItem] = []
    for work_for in ports.work_items:
        items.extend(work_for(user))
    return sorted(items, key=lambda item: (item.since, item.title))
