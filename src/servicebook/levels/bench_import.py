"""Benchmark: import and evaluate a synthetic ServiceNow incident event log (needs Django).

Writes an export of ``n_rows`` rows in the real format (see
:func:`servicebook.levels.bench.servicenow_rows`), then times reading the file, importing it
(tickets and state history, idempotent by number) and recomputing the agreement's attainment,
inside a transaction that is rolled back: the database is left as it was.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

from django.db import transaction

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
