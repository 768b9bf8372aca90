"""``servicebook bench close`` at a tiny size: it runs and prints its figures (never timed)."""

from __future__ import annotations

import json
import os

import pytest

from servicebook.cli import main

KEYS = {"seconds", "peak_rss_mb", "rerun_seconds", "rerun_noop", "ledger_ok", "customers"}


def _postgres_reachable() -> bool:
    try:
        import psycopg

        server = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{server}/postgres", connect_timeout=2):
            return True
    except Exception:
        return False


def _figures(capsys, database: str) -> dict:
    assert main(["bench", "close", "--n", "6", "--lines", "5", "--database", database]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert "error" not in run, run
    return run


def test_bench_close_on_sqlite(capsys):
    run = _figures(capsys, "sqlite")
    assert set(run) >= KEYS and run["database"] == "sqlite"
    assert run["customers"] == 6 and run["rerun_noop"] is True and run["ledger_ok"] is True


@pytest.mark.postgres
@pytest.mark.skipif(not _postgres_reachable(), reason="needs PostgreSQL on 127.0.0.1:5432")
def test_bench_close_on_a_throwaway_postgres_database(capsys):
    run = _figures(capsys, "postgres")
    assert set(run) >= KEYS and run["database"] == "postgresql"
    assert run["rerun_noop"] is True and run["ledger_ok"] is True
