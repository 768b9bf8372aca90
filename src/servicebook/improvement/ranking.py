"""The relationship health ranking, kept per period (issue 14, decision 0030).

Ranking every customer's health is a dozen grouped queries and one :class:`Health` a customer:
about a second at 10,000 customers, however few rows a page shows. The worker ranks each period
a page asked for and keeps the ranking (:class:`HealthRanking`, one :class:`HealthRank` a
customer); the health list, its API and the provider dashboard read it, sorted, filtered,
counted and paged by the database (:class:`Ranked`), while it is **current**:

- nothing health is computed from was saved since: the receivers :func:`connect_receivers`
  connects mark every kept ranking stale when a customer, its events, feedback, commitments and
  their breaches, an agreement, an invoice, a statement, a payment, a finance period (closed),
  a usage import, an improvement or a recomputation of attainment is saved, and queue one
  ``improvement.rank_health`` job when the change commits;
- it was ranked today (invoices become overdue by the day): ``servicebook improvement rank``
  each night (cron) or *Rank now* on the health page ranks the day's.

A page that finds no current ranking ranks live, in memory, as before (correct, slower): reads
never write (decision 0015). Bulk writes that send no signal are not seen by a kept ranking
until something else marks it stale or the day passes: the bulk paths of the product (ticket
imports, the close, usage imports) each save a row that does.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, QuerySet
from django.db.models.signals import post_save
from django.utils import timezone

from servicebook.core.jobkinds import JobKind
from servicebook.improvement.models import HealthRank, HealthRanking
from servicebook.improvement.selectors import RATING_ORDER, Health, health_of, worst_first
from servicebook.parties.models import Customer
from servicebook.parties.rows import CustomerRow

#: The figures of a :class:`Health` kept as decimal strings (JSON has no decimals).
DECIMALS = ("satisfaction_trend", "attainment_percent", "overdue_amount", "over_funding_by")
#: The figures kept as they are (numbers, text, None).
PLAIN = (
    "targets_measured",
    "open_breaches",
    "overdue_invoices",
    "open_complaints",
    "open_improvements",
    "currency",
    "commitment_breaches",
    "consumption_basis",
)
#: What "worst first" is in the database (``Health.rank``).
WORST_FIRST = ("rating_order", "-score", "name", "customer_id")
#: The job kind that ranks the stale periods (or one period) in the background.
RANK_HEALTH = "improvement.rank_health"
#: Rows written at a time.
BATCH = 2_000


def ranked_customers():
    """The customers a ranking holds: every active or suspended one."""
    return Customer.objects.served()


def current(period: str, *, today: dt.date | None = None) -> HealthRanking | None:
    """The kept ranking of ``period`` if it is current (not stale, ranked ``today``)."""
    today = today or timezone.localdate()
    return HealthRanking.objects.filter(period=period, stale=False, as_of=today).first()


def rank(period: str, *, today: dt.date | None = None) -> HealthRanking:
    """Rank every customer's health for ``period`` and keep it (replacing the ranking kept).

    The ranking is marked current *before* health is read: a change committed while it is read
    marks it stale again, and the next job ranks it again. Health is read outside the write
    transaction (SQLite holds its one write lock only while the rows are replaced); two
    rankings of one period replace the rows one after the other (the period row's lock)."""
    today = today or timezone.localdate()
    HealthRanking.objects.get_or_create(
        period=period, defaults={"ranked_at": timezone.now(), "as_of": today, "stale": True}
    )
    HealthRanking.objects.filter(period=period).update(stale=False)
    started = time.perf_counter()
    try:
        rows = health_of(ranked_customers(), period=period, today=today, light=True)
    except BaseException:
        HealthRanking.objects.filter(period=period).update(stale=True)
        raise
    with transaction.atomic():
        kept = HealthRanking.objects.select_for_update().get(period=period)
        HealthRank.objects.filter(ranking=kept).delete()
        for start in range(0, len(rows), BATCH):
            HealthRank.objects.bulk_create(_rank_row(kept, h) for h in rows[start : start + BATCH])
        kept.ranked_at, kept.as_of, kept.customers = timezone.now(), today, len(rows)
        kept.took_ms = round((time.perf_counter() - started) * 1000)
        kept.save(update_fields=["ranked_at", "as_of", "customers", "took_ms"])
    return kept


def rank_due(*, today: dt.date | None = None, periods: Iterable[str] = ()) -> list[HealthRanking]:
    """Rank ``periods`` and every kept ranking that is not current (the job, the nightly
    command)."""
    today = today or timezone.localdate()
    due = set(periods)
    for kept in HealthRanking.objects.all():
        if kept.stale or kept.as_of != today:
            due.add(kept.period)
    return [rank(period, today=today) for period in sorted(due)]


def _rank_row(kept: HealthRanking, health: Health) -> HealthRank:
    figures = {name: getattr(health, name) for name in PLAIN}
    figures.update({name: _text(getattr(health, name)) for name in DECIMALS})
    figures["consumption"] = _text(health.consumption)
    figures["satisfaction"] = [[period, str(score)] for period, score in health.satisfaction]
    return HealthRank(
        ranking=kept,
        customer_id=health.customer.pk,
        rating_order=RATING_ORDER[health.rating],
        score=health.score,
        name=health.customer.name,
        open_breaches=health.open_breaches,
        open_complaints=health.open_complaints,
        figures=figures,
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def health_rows(kept: HealthRanking, ranks: Iterable[HealthRank]) -> list[Health]:
    """``ranks`` as :class:`Health` rows (light: no in-difficulty history), in their order."""
    ranks = list(ranks)
    customers = {
        c.pk: c
        for c in CustomerRow.rows(Customer.objects.filter(pk__in=[r.customer_id for r in ranks]))
    }
    return [
        _health(kept.period, customers[r.customer_id], r.figures)
        for r in ranks
        if r.customer_id in customers
    ]


def _health(period: str, customer: CustomerRow, figures: dict) -> Health:
    values = {name: figures.get(name) for name in PLAIN}
    values.update({name: _decimal(figures.get(name)) for name in DECIMALS})
    return Health(
        customer=customer,
        period=period,
        satisfaction=[(p, Decimal(score)) for p, score in figures.get("satisfaction", [])],
        consumption=_decimal(figures.get("consumption")),
        **values,
    )


class Ranked:
    """``customers`` (a queryset: those the reader sees, filtered) worst first for ``period``,
    only those rated ``rating`` when it is one: read from the kept ranking when it is current
    (``kept``), ranked live otherwise (``kept`` is None). A sequence of :class:`Health` rows:
    ``len()``, slices (one page: only its rows are made), ``ratings()``."""

    def __init__(self, customers: QuerySet, period: str, *, rating: str | None = None):
        self.period = period
        self.kept = current(period)
        self.ranks: QuerySet | None = None
        self.rows: list[Health] = []
        if self.kept is not None:
            self.ranks = self.kept.ranks.filter(customer__in=customers.values("pk"))
            if rating in RATING_ORDER:
                self.ranks = self.ranks.filter(rating_order=RATING_ORDER[rating])
            self.ranks = self.ranks.order_by(*WORST_FIRST)
        else:
            rows = health_of(customers, period=period, light=True)
            if rating in RATING_ORDER:
                rows = [h for h in rows if h.rating == rating]
            self.rows = worst_first(rows)

    def __len__(self) -> int:
        if self.ranks is None:
            return len(self.rows)
        if not hasattr(self, "_count"):
            self._count = self.ranks.count()
        return self._count

    def __getitem__(self, key):
        if self.ranks is None:
            return self.rows[key]
        assert self.kept is not None
        if isinstance(key, slice):
            return health_rows(self.kept, self.ranks[key])
        return health_rows(self.kept, self.ranks[key : key + 1])[0]

    def ratings(self) -> Counter:
        """How many are rated each way (``at_risk``, ``watch``, ``good``)."""
        if self.ranks is None:
            return Counter(h.rating for h in self.rows)
        names = {order: name for name, order in RATING_ORDER.items()}
        counted = self.ranks.order_by().values_list("rating_order").annotate(n=Count("pk"))
        return Counter({names[order]: n for order, n in counted})

    @property
    def queued(self) -> bool:
        """Whether a ranking job is queued or running (a current ranking is on its way)."""
        from servicebook.core import jobs

        return jobs.queued_or_running(RANK_HEALTH)


# --- ranking again -----------------------------------------------------------------------------


def rank_later(*, period: str | None = None) -> None:
    """Queue one ranking job (none when one is queued already) once the transaction commits:
    of ``period``, or of every kept ranking that is not current."""
    from servicebook.core import jobs

    params = {"period": period} if period else {}
    transaction.on_commit(lambda: jobs.start_once(kind=RANK_HEALTH, params=params))


def run_rank_job(job, progress) -> dict:
    """The ``improvement.rank_health`` job: rank ``params["period"]`` (if given) and every kept
    ranking that is not current."""
    wanted = [job.params["period"]] if job.params.get("period") else []
    progress(0, 1, "ranking relationship health")
    ranked = rank_due(periods=wanted)
    progress(1, 1, "done")
    return {
        "periods": [k.period for k in ranked],
        "customers": max((k.customers for k in ranked), default=0),
    }


def mark_stale(**_kwargs) -> None:
    """A ``post_save`` receiver: every kept ranking is stale; one job ranks them again."""
    if HealthRanking.objects.filter(stale=False).update(stale=True):
        rank_later()


#: The models whose saved rows change someone's health (``app_label.ModelName``). Only
#: ``post_save``: a delete receiver would make Django read every row a bulk delete removes.
INPUTS = (
    "parties.Customer",
    "parties.CustomerEvent",
    "parties.Feedback",
    "parties.Commitment",
    "parties.CommitmentBreach",
    "agreements.Agreement",
    "levels.LevelsState",  # attainment recomputed (its rows are written in bulk)
    "finance.Invoice",
    "finance.Statement",
    "finance.Payment",
    "finance.Period",  # a period closed: its invoices and statements were written by COPY
    "finance.UsageImport",  # usage changes consumption at cost against funding
    "improvement.Improvement",
)


def connect_receivers() -> None:
    from django.apps import apps

    for label in INPUTS:
        post_save.connect(mark_stale, sender=apps.get_model(label), dispatch_uid=f"health {label}")


def _staff(user) -> bool:
    from servicebook.core.roles import is_provider_staff

    return is_provider_staff(user)


KINDS = (JobKind(RANK_HEALTH, "Relationship health ranking", run_rank_job, _staff),)
