"""The real worker: ``servicebook worker --burst`` in a subprocess against a file SQLite database
with the demo loaded, a worker killed in the middle of a large import (nothing half-written, the
job marked interrupted, the rerun imports everything), and the one-line refusal on a database
that is not ready."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from servicebook.levels.bench import write_servicenow_export
from tests.cli_databases import copy_sqlite, create_postgres

SNOW = Path(__file__).resolve().parents[1] / "data" / "tickets" / "servicenow_incidents.csv"


def run(*args, env, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "servicebook.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def shell(code: str, env) -> str:
    result = run("manage", "shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


START = """
from django.core.files.uploadedfile import SimpleUploadedFile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from servicebook.core import jobs
from servicebook.core.models import User
path = Path({path!r})
job = jobs.start(actor=User.objects.get(username="manager"), kind="levels.import_tickets",
    params={{"format": "servicenow", "agreement": "SLA-MKT-2026", "time_zone": "Europe/Paris"}},
    upload=SimpleUploadedFile(path.name, path.read_bytes()))
print(job.pk)
"""


DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not ON_POSTGRES, reason="needs DATABASE_URL=postgres://…"),
            ],
        ),
    ],
)
def demo(request, tmp_path_factory, cli_templates):
    """A database with the demo provider (a SQLite file, or a fresh PostgreSQL database dropped
    afterwards), its folder and environment, and a function running one SQL query on it.

    Both are copies of the run's demo made by ``servicebook demo`` (tests/cli_databases.py):
    the worker's tests are not about loading the demo."""
    var = tmp_path_factory.mktemp("worker")
    env = {
        **os.environ,
        "DEBUG": "1",
        "SERVICEBOOK_VAR_DIR": str(var),
        "DATABASE_URL": "",
        "SERVICEBOOK_JOB_STALE_SECONDS": "2",
    }
    env.pop("TASKS_BACKEND", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    name = f"sb_worker_{secrets.token_hex(4)}"
    if request.param == "postgres":
        import psycopg

        env["DATABASE_URL"] = create_postgres(cli_templates, "demo", DATABASE_URL, name, var)

        def query(sql: str):
            with psycopg.connect(env["DATABASE_URL"]) as db:
                return db.execute(sql).fetchall()
    else:
        copy_sqlite(cli_templates, "demo", var)

        def query(sql: str):
            with sqlite3.connect(var / "servicebook.sqlite3") as db:
                return db.execute(sql).fetchall()

    try:
        yield var, env, query
    finally:
        if request.param == "postgres":
            with psycopg.connect(
                _with_database(DATABASE_URL, "postgres"), autocommit=True
            ) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def job_row(query, pk):
    status, error, summary = query(
        f"select status, error, summary from core_job where id = {int(pk)}"
    )[0]
    return status, error, summary if isinstance(summary, dict) else json.loads(summary)


def test_worker_burst_runs_what_is_queued_and_exits(demo):
    var, env, query = demo
    pk = shell(START.format(path=str(SNOW)), env)
    assert job_row(query, pk)[0] == "queued"
    result = run("worker", "--burst", env=env)
    assert result.returncode == 0, result.stderr
    status, error, summary = job_row(query, pk)
    assert (status, error) == ("succeeded", "")
    assert (summary["rows_read"], summary["rows_imported"], summary["rows_rejected"]) == (
        310,
        306,
        4,
    )
    assert (var / "jobs" / str(pk) / "rejects.csv").is_file()


def test_a_worker_killed_mid_import_leaves_nothing_and_the_rerun_imports_all(demo, tmp_path):
    var, env, query = demo
    export = tmp_path / "export.csv"
    written = write_servicenow_export(export, 60_000, seed=7, tz="Europe/Paris")
    before = query("select count(*) from levels_ticket")[0][0]
    pk = shell(START.format(path=str(export)), env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "servicebook.cli", "worker", "--interval", "0.2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    progress = var / "jobs" / str(pk) / "progress.json"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = progress.read_text() if progress.is_file() else "{}"
            if json.loads(text or "{}").get("done", 0) >= 40:  # writing tickets
                break
            time.sleep(0.05)
        else:
            pytest.fail("the import never reached its write phase")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    assert query("select count(*) from levels_ticket")[0][0] == before
    assert job_row(query, pk)[0] == "running"
    time.sleep(2.5)  # no heartbeat for longer than SERVICEBOOK_JOB_STALE_SECONDS
    result = run("worker", "--burst", env=env)
    assert result.returncode == 0, result.stderr
    assert "1 job(s) left running by a stopped worker marked failed" in result.stdout
    assert job_row(query, pk)[:2] == ("failed", "interrupted: the worker stopped")
    shell(
        "from servicebook.core import jobs; from servicebook.core.models import Job, User; "
        f"jobs.retry(actor=User.objects.get(username='manager'), job=Job.objects.get(pk={pk}))",
        env,
    )
    result = run("worker", "--burst", env=env)
    assert result.returncode == 0, result.stderr
    status, error, summary = job_row(query, pk)
    assert (status, error) == ("succeeded", "")
    assert summary["rows_read"] == written and summary["rows_rejected"] == 0
    created = query("select count(*) from levels_ticket")[0][0] - before
    assert created == summary["tickets_created"] > 0


def test_worker_refuses_in_one_line_on_a_database_without_tables(tmp_path):
    env = {**os.environ, "DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(tmp_path), "DATABASE_URL": ""}
    result = run("worker", "--burst", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "servicebook worker: the database is not ready for jobs (no such table: core_job): run "
        "`servicebook demo` or `servicebook manage migrate` first"
    ]


def test_two_workers_on_one_queue_never_take_the_same_job(demo):
    """Past one machine (docs/operations.md): two ``servicebook worker`` processes on one database
    share the queue; each job runs exactly once (the database backend claims a job by locking its
    row: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL) and both workers take part."""
    var, env, query = demo
    logs = [var / f"worker-{n}.log" for n in range(2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "servicebook.cli", "worker", "--interval", "0.1"],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 60  # both are polling before the first job is queued
        while not all("Servicebook worker on" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.1)
        code = "".join(START.format(path=str(SNOW)) for _ in range(8))
        printed = run("manage", "shell", "-c", code, env=env).stdout.splitlines()
        jobs_queued = [int(line) for line in printed if line.strip().isdigit()]
        assert len(jobs_queued) == 8
        ids = ",".join(map(str, jobs_queued))
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            left = query(
                f"select count(*) from core_job where id in ({ids}) and status in "
                "('queued', 'running')"
            )[0][0]
            if not left:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the two workers did not finish the eight jobs")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    rows = query(f"select status, attempts from core_job where id in ({ids})")
    assert rows == [("succeeded", 1)] * 8
    started = query(
        f"select job_id, count(*) from core_jobevent where job_id in ({ids}) "
        "and action = 'started' group by job_id"
    )
    assert sorted(count for _, count in started) == [1] * 8
    tasks = {
        uuid.UUID(str(task))
        for (task,) in query(f"select task_id from core_job where id in ({ids})")
    }
    claims = {
        uuid.UUID(str(task)): json.loads(taken) if isinstance(taken, str) else taken
        for task, taken in query("select id, worker_ids from django_tasks_database_dbtaskresult")
    }
    assert all(len(claims[task]) == 1 for task in tasks), [claims[task] for task in tasks]
    assert len({claims[task][0] for task in tasks}) == 2, "one worker took every job"
