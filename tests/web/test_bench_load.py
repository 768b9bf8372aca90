"""`servicebook bench load` at a tiny size (2 users, 3 seconds): it runs end to end on a fresh
PostgreSQL database (dropped afterwards) and prints its figures. No timed assertion: the figures
are docs/performance.md's business. Runs in ``make test-postgres``; skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

DATABASE_URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    pytest.mark.postgres,  # its own database: kept by --database-tests-only
    pytest.mark.skipif(
        not DATABASE_URL.startswith(("postgres://", "postgresql://")),
        reason="needs PostgreSQL (DATABASE_URL=postgres://…; run by make test-postgres)",
    ),
]

SERVICEBOOK = [sys.executable, "-m", "servicebook"]
TINY = ["--users", "2", "--seconds", "3", "--workers", "1", "--baseline-seconds", "1"]
KEYS = {"p50_ms", "p95_ms", "p99_ms", "requests", "requests_per_s", "errors", "failures"}


def test_bench_load_runs_every_role_and_reports_its_figures():
    server = urlunsplit(urlsplit(DATABASE_URL)._replace(path=""))
    result = subprocess.run(
        [*SERVICEBOOK, "bench", "load", *TINY, "--pg-url", server],
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUG": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert set(figures) >= KEYS and set(figures["baseline"]) >= KEYS
    assert figures["gunicorn_workers"] == 1 and figures["users"] == 2
    assert figures["errors"] == 0, figures["failures"]
    assert figures["sign_in"]["requests"] == 2
    roles = {plan["role"] for plan in figures["plan"].values()}
    assert {"provider_admin", "internal_customer", "external_customer"} <= roles
    assert all(plan["pages"] and plan["api_lists"] for plan in figures["plan"].values())
