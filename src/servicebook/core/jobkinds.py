"""What a background job can be: the kinds the apps offer (``servicebook.ports.job_kinds``).

Core knows no app: :mod:`servicebook.ports` declares the hook the apps plug their kinds into
and hands core the way to read it (:func:`use_kinds`), so :func:`kind_named` finds a kind without
core importing an app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: ``progress(done, total=None, message="")``: how far a job got (throttled by the reporter).
ProgressCallback = Callable[..., None]


def _nobody(user: Any) -> bool:
    """The default of ``may_start``: a kind says who may start it."""
    return False


@dataclass(frozen=True)
class JobKind:
    """One kind of background job: its ``name`` (stored on the job), a ``title`` people read,
    ``run(job, progress) -> summary`` (the work; raise ``DomainError`` for a one-line refusal;
    a summary's ``rows_read``, ``rows_imported``, ``rows_rejected`` are shown on the job page)
    and ``may_start(user)`` (who may start it, asked before it is queued and again on retry)."""

    name: str
    title: str
    run: Callable[[Any, ProgressCallback], dict]
    may_start: Callable[[Any], bool] = field(default=_nobody)


_source: Callable[[], Iterable[JobKind]] = tuple


_finished: Callable[[Any], None] = lambda job: None  # noqa: E731


def use_finished(callback: Callable[[Any], None]) -> None:
    """Who hears that a job finished (called once by :mod:`servicebook.ports`)."""
    global _finished
    _finished = callback


def tell_finished(job: Any) -> None:
    """Tell whoever listens (notifications) that ``job`` succeeded or failed."""
    _finished(job)


def use_kinds(source: Callable[[], Iterable[JobKind]]) -> None:
    """Where the kinds come from (called once by :mod:`servicebook.ports`)."""
    global _source
    _source = source


def kinds() -> dict[str, JobKind]:
    return {kind.name: kind for kind in _source()}


def kind_named(name: str) -> JobKind:
    try:
        return kinds()[name]
    except KeyError:
        raise LookupError(f"no app offers the job kind {name!r}") from None
