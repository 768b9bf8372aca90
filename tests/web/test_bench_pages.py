"""``servicebook bench pages`` works: a tiny run (three customers, one request a page, one
throwaway database to migrate) prints the figures' keys. Times are never asserted."""

from __future__ import annotations

from servicebook.core.benchdb import TEMPLATE_ENV
from servicebook.web import bench_pages
from tests.cli_databases import sqlite_file


def test_summary_names_the_slowest_page_and_the_growing_ones():
    page = {"status": 200, "queries": 5, "p95_ms": 10.0}
    runs = [
        {"customers": 2, "seed_seconds": 0.1, "pages": {"a": page, "b": page}},
        {
            "customers": 4,
            "seed_seconds": 0.2,
            "pages": {"a": {**page, "p95_ms": 400.0}, "b": {**page, "queries": 6}},
        },
    ]
    result = bench_pages.summarize(runs, repeat=1)
    assert result["slowest"] == "a" and result["p95_ms_max"] == 400.0
    assert result["queries_grow"] == ["b"] and result["over_target"] == ["a"]


def test_a_tiny_run_prints_every_key(monkeypatch):
    """The real path: the throwaway database starts empty and is migrated."""
    monkeypatch.delenv(TEMPLATE_ENV, raising=False)
    result = bench_pages.run(customers=3, baseline=3, repeat=1)  # one size: one migrate
    assert [r.get("error") for r in result["runs"]] == [None]
    assert {"p95_ms_max", "slowest", "queries_grow", "seed_seconds", "runs"} <= result.keys()
    pages = result["runs"][-1]["pages"]
    assert any(name.startswith("external detail") for name in pages)
    assert any(name.startswith("staff api") for name in pages)


def test_kept_databases_are_reused_and_only_the_named_pages_measured(
    tmp_path, monkeypatch, cli_templates
):
    """From a migrated copy (``SERVICEBOOK_BENCH_SQLITE_TEMPLATE``, tests/cli_databases.py): the
    test above migrates its throwaway database from nothing."""
    monkeypatch.setenv(TEMPLATE_ENV, str(sqlite_file(cli_templates, "migrated")))
    first = bench_pages.run(
        customers=2, baseline=2, repeat=1, only="staff page web:home", keep=tmp_path
    )
    assert [r.get("error") for r in first["runs"]] == [None]
    assert list(first["runs"][0]["pages"]) == ["staff page web:home"]
    assert (tmp_path / "2" / bench_pages.SEEDED).exists()
    again = bench_pages.run(customers=2, baseline=2, repeat=1, only="api ", keep=tmp_path)
    assert [r.get("error") for r in again["runs"]] == [None]
    assert again["seed_seconds"] == first["seed_seconds"]  # not seeded again
    assert all(" api " in name for name in again["runs"][0]["pages"])
