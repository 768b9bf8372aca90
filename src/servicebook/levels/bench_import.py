"""Benchmark: import and evaluate a synthetic ServiceNow incident event log (needs Django).

Writes an export of ``n_rows`` rows in the real format (see
:func:`servicebook.levels.bench.servicenow_rows`), then times reading the file, importing it
(tickets and state history, idempotent by number) and recomputing the agreement's attainment,
inside a transaction that is rolled back: the database is left as it was.

:func:`run` (``servicebook bench import [--rows N]``) does the same the way a user would, in a
child process on a throwaway SQLite database (migrated, the demo loaded): it imports the file with
:func:`servicebook.levels.services.import_tickets` reading it row by row, recomputes attainment,
and reports ``rows_per_s``, ``seconds`` and the child's ``peak_rss_mb``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import transaction

from servicebook.core.benchdb import start_database
from servicebook.levels.bench import write_servicenow_export


def _agreement():
    from servicebook.agreements.models import Agreement

    agreement = (
        Agreement.objects.filter(status="active", targets__metric="resolution_time")
        .order_by("pk")
        .distinct()
        .first()
    )
    if agreement is None:
        raise LookupError("no active agreement with targets: run `servicebook demo` first")
    return agreement


def run_import_benchmark(n_rows: int = 150_000, seed: int = 0) -> dict:
    """Figures of one import + evaluation of an ``n_rows`` export (rolled back afterwards)."""
    from servicebook.levels import services
    from servicebook.levels.models import Attainment

    agreement = _agreement()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "incident_event_log.csv"
        written = write_servicenow_export(path, n_rows, seed=seed, tz="Europe/Paris")
        with transaction.atomic():
            t0 = time.perf_counter()
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                rows = list(reader)
            t1 = time.perf_counter()
            result = services.import_tickets(
                actor=None,
                rows=rows,
                fmt="servicenow",
                columns=reader.fieldnames,
                agreement=agreement.reference,
                source=f"bench-{seed}",
                time_zone="Europe/Paris",
                recompute=False,
            )
            t2 = time.perf_counter()
            services.recompute_attainment(actor=None, agreement=agreement, reason="benchmark")
            t3 = time.perf_counter()
            periods = Attainment.objects.filter(agreement=agreement).count()
            transaction.set_rollback(True)
    return {
        "rows": written,
        "rows_read": result.rows_read,
        "rows_rejected": result.rows_rejected,
        "tickets": result.tickets_created + result.tickets_updated,
        "agreement": agreement.reference,
        "attainment_rows": periods,
        "read_seconds": round(t1 - t0, 3),
        "import_seconds": round(t2 - t1, 3),
        "evaluate_seconds": round(t3 - t2, 3),
        "seconds": round(t3 - t0, 3),
        "rows_per_s": round(written / (t3 - t0)),
    }


# --- ``servicebook bench import``: a throwaway SQLite database in a child process ---------------

TARGET_ROWS_PER_S = 20_000


def run(*, rows: int = 150_004, seed: int = 0) -> dict:
    """Import a synthetic ``rows``-row export into a fresh SQLite database (child process)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            "SERVICEBOOK_VAR_DIR": tmp,
            "SERVICEBOOK_USAGE_DIR": str(Path(tmp) / "usage"),
            "DEBUG": "1",
        }
        start_database(Path(tmp) / "bench.sqlite3")  # empty, unless a template is named
        demo = subprocess.run(  # migrate and load the demo (its agreements and targets)
            [sys.executable, "-m", "servicebook", "demo"], env=env, capture_output=True, text=True
        )
        command = [sys.executable, "-m", "servicebook.levels.bench_import"]
        proc = (
            demo
            if demo.returncode
            else subprocess.run(
                [*command, "--rows", str(rows), "--seed", str(seed), "--dir", tmp],
                env=env,
                capture_output=True,
                text=True,
            )
        )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"benchmark": "import", "rows": rows, "error": tail}
    figures = json.loads(proc.stdout)
    figures["target_rows_per_s"] = TARGET_ROWS_PER_S
    figures["meets_target"] = figures["rows_per_s"] >= TARGET_ROWS_PER_S
    return figures


def _rows(path: Path):
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def _timed_import(path: Path, agreement) -> tuple[object, float, float, float]:
    """Import the export file as ``servicebook import tickets`` does, then evaluate attainment:
    the result, the start and end (``perf_counter``) and the process's CPU seconds spent."""
    from servicebook.levels import services

    t0, cpu0 = time.perf_counter(), time.process_time()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        result = services.import_tickets(
            actor=None,
            rows=reader,
            reread=lambda: _rows(path),
            fmt="servicenow",
            columns=reader.fieldnames,
            agreement=agreement.reference,
            source="bench",
            time_zone="Europe/Paris",
            filename=str(path),
            recompute=True,
        )
    cpu = time.process_time() - cpu0
    return result, t0, time.perf_counter(), cpu


def _warm_up() -> None:
    """Load before timing what a running site or the CLI after its first command has loaded:
    one-off costs of the process (seconds where Python may not write bytecode caches, e.g.
    PYTHONDONTWRITEBYTECODE), not of the rows.

    - the URL conf (every view module) and its reverse table: the import links each
      improvement item it raises to its page;
    - the ``holidays`` package's countries (about 250 modules, imported all at once the first
      time a calendar asks for a country's holidays) and the modules they bring;
    - what NumPy (``numpy.ma``, for ``np.isin``) and the notifications (the e-mail task queued
      once the import commits) import on first use.
    """
    import importlib

    from django.urls import get_resolver, reverse

    get_resolver().url_patterns  # noqa: B018 - imports the views
    reverse("improvement:detail", args=[1])  # builds the reverse table once
    for name in (
        "holidays.countries",
        "dateutil.easter",
        "encodings.utf_8_sig",
        "numpy.ma",
        "servicebook.notifications.tasks",
    ):
        importlib.import_module(name)


def child_main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_004)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicebook.config.settings")
    import django

    django.setup()
    from servicebook.levels.models import Attainment, Ticket, TicketStateChange

    agreement = _agreement()
    _warm_up()
    path = args.dir / "incident_event_log.csv"
    started = time.perf_counter()
    written = write_servicenow_export(path, args.rows, seed=args.seed, tz="Europe/Paris")
    generate_seconds = time.perf_counter() - started
    result, t0, t1, cpu = _timed_import(path, agreement)
    figures = {
        "benchmark": "import",
        "database": "sqlite",
        "rows": written,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "rows_read": result.rows_read,
        "rows_rejected": result.rows_rejected,
        "tickets": Ticket.objects.filter(source="bench").count(),
        "history_rows": TicketStateChange.objects.filter(ticket__source="bench").count(),
        "attainment_rows": Attainment.objects.filter(agreement=agreement).count(),
        "generate_seconds": round(generate_seconds, 2),
        "seconds": round(t1 - t0, 3),
        "rows_per_s": round(written / (t1 - t0)),
        # the process's own CPU time: on a shared machine, wall time also counts the waits
        "cpu_seconds": round(cpu, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
