"""The kept relationship health ranking (``improvement.ranking``, issue 14, decision 0030): it
answers what ranking every customer live answers, in every order the page sorts by; the pages
read it while it is current and rank live when it is not, never writing; a change marks it
stale and queues one job, which ranks it again; *Rank now* and the nightly command rank too."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tables2.data import TableListData

from servicebook.cli import main
from servicebook.core.models import Job, JobStatus
from servicebook.improvement import ranking, selectors
from servicebook.improvement.models import HealthRank, HealthRanking
from servicebook.improvement.tables import HealthTable, RankedHealthRows
from servicebook.parties.models import Customer
from tests.improvement.test_health_at_scale import _figures
from tests.inline_jobs import inline_jobs
from tests.levels.test_reads_never_write import writes_of

PERIOD = "2026-10"
SORTS = ["rating", "-rating", "customer", "-customer", "breaches", "-breaches"]
SORTS += ["complaints", "-complaints"]


def _everyone():
    return Customer.objects.filter(status__in=["active", "suspended"])


def _live():
    return selectors.worst_first(selectors.health_of(_everyone(), period=PERIOD, light=True))


def test_the_kept_ranking_answers_what_the_live_ranking_answers(customers):
    assert ranking.Ranked(_everyone(), PERIOD).kept is None  # nothing kept: ranked live
    kept = ranking.rank(PERIOD)
    ranked = ranking.Ranked(_everyone(), PERIOD)
    assert ranked.kept == kept and kept.customers == len(ranked) == len(_live())
    rows, live = ranked[: len(ranked)], _live()
    assert [_figures(h) for h in rows] == [_figures(h) for h in live]
    assert [(h.satisfaction, h.satisfaction_trend) for h in rows] == [
        (h.satisfaction, h.satisfaction_trend) for h in live
    ]
    assert [(h.consumption, h.commitment_breaches) for h in rows] == [
        (h.consumption, h.commitment_breaches) for h in live
    ]
    assert ranked.ratings() == ranking.Counter(h.rating for h in live)  # counted in the database
    assert sum(ranked.ratings().values()) == len(live) and ranked.ratings()["at_risk"]
    at_risk = ranking.Ranked(_everyone(), PERIOD, rating="at_risk")
    assert [h.customer.pk for h in at_risk[:50]] == [
        h.customer.pk for h in live if h.rating == "at_risk"
    ]


@pytest.mark.parametrize("sort", SORTS)
def test_the_table_sorts_the_kept_ranking_as_it_sorts_the_live_list(customers, sort):
    ranking.rank(PERIOD)
    ours = HealthTable(data=RankedHealthRows(ranking.Ranked(_everyone(), PERIOD)))
    theirs = HealthTable(data=TableListData(_live()))
    ours.order_by = theirs.order_by = sort
    assert [r.record.customer.pk for r in ours.rows] == [r.record.customer.pk for r in theirs.rows]


def test_a_change_makes_it_stale_and_queues_one_ranking(
    customers, django_capture_on_commit_callbacks
):
    first = ranking.rank(PERIOD)
    quiet = Customer.objects.get(code="marketing")
    assert HealthRank.objects.get(ranking=first, customer=quiet).rating_order != 0
    with django_capture_on_commit_callbacks(execute=True):
        quiet.in_difficulty, quiet.difficulty_reason = True, "budget cut"
        quiet.save()  # flagged in difficulty: at risk
        quiet.save()  # a second change queues no second job
    assert ranking.current(PERIOD) is None
    live = ranking.Ranked(_everyone(), PERIOD)
    assert live.kept is None and live.queued
    assert next(h for h in live.rows if h.customer.pk == quiet.pk).rating == "at_risk"
    (job,) = Job.objects.filter(kind=ranking.RANK_HEALTH, status=JobStatus.QUEUED)
    ranking.run_rank_job(job, lambda *args: None)
    again = ranking.current(PERIOD)
    assert again is not None and again.ranked_at > first.ranked_at
    assert HealthRank.objects.get(ranking=again, customer=quiet).rating_order == 0


def test_a_ranking_is_current_for_its_day_only(customers):
    kept = ranking.rank(PERIOD)
    tomorrow = kept.as_of + dt.timedelta(days=1)
    assert ranking.current(PERIOD, today=tomorrow) is None  # overdue invoices count by the day
    (ranked,) = ranking.rank_due(today=tomorrow)
    assert ranked.as_of == tomorrow and ranking.current(PERIOD, today=tomorrow) == ranked
    assert HealthRanking.objects.filter(period=PERIOD).count() == 1  # replaced, not added


@pytest.mark.parametrize("kept", [False, True])
def test_the_pages_read_and_never_write(users, web_for, client_for, customers, kept):
    if kept:
        ranking.rank(PERIOD)
    web, api = web_for(users["manager"]), client_for(users["manager"])
    with CaptureQueriesContext(connection) as captured:
        page = web.get(reverse("improvement:health"), {"period": PERIOD}).content.decode()
        board = web.get(reverse("improvement:dashboard"), {"period": PERIOD}).content.decode()
        data = api.get(reverse("improvementdashboard-list"), {"period": PERIOD}).json()
        listed = api.get(reverse("relationshiphealth-list"), {"period": PERIOD}).json()
    assert [sql for sql in writes_of(captured) if "django_session" not in sql] == []
    said = 'data-testid="health-ranked-at"' if kept else 'data-testid="health-ranked-live"'
    assert said in page and said in board
    assert (data["health_ranked_at"] is not None) is kept
    assert listed["count"] == _everyone().count()


def test_rank_now_queues_the_ranking_for_the_worker(
    users, web_for, settings, django_capture_on_commit_callbacks, tmp_path, customers
):
    web = web_for(users["manager"])
    with inline_jobs(settings, django_capture_on_commit_callbacks, tmp_path):
        response = web.post(reverse("improvement:health"), {"period": PERIOD})
    job = Job.objects.get(kind=ranking.RANK_HEALTH)
    assert response.status_code == 302 and response.url == reverse("web:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.summary["periods"] == [PERIOD]
    assert ranking.current(PERIOD) is not None
    assert web.post(reverse("improvement:health"), {"period": "10-2026"}).status_code == 404
    external = web_for(users["external"]).post(reverse("improvement:health"), {"period": PERIOD})
    assert external.status_code == 403


def test_the_nightly_command_ranks_the_months_the_pages_open_on(db, capsys):
    assert main(["improvement", "rank", "--period", PERIOD, "--json"]) == 0
    ranked = {row["period"] for row in json.loads(capsys.readouterr().out)["ranked"]}
    assert ranked == {PERIOD, selectors.current_period(), selectors.default_period()}
    assert all(k.as_of == timezone.localdate() for k in HealthRanking.objects.all())
    assert main(["improvement", "rank", "--period", "2026-13"]) == 2
