"""The service levels app's background jobs (``servicebook.ports.job_kinds``): ticket and outage
imports started from the web, and the recomputation of attainment when its inputs change."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from servicebook.core import jobs
from servicebook.core.errors import DomainError
from servicebook.core.jobkinds import JobKind
from servicebook.core.roles import has_role, is_provider_staff
from servicebook.levels import intake, services

IMPORT_TICKETS = "levels.import_tickets"
IMPORT_OUTAGES = "levels.import_outages"
RECOMPUTE = "levels.recompute"


def _may(*roles):
    return lambda user: is_provider_staff(user) and has_role(user, *roles)


def read_csv(path_text: str) -> tuple[list[str], list[dict]]:
    """The header and rows of a CSV file (UTF-8, a BOM allowed); a one-line refusal otherwise."""
    path = _opened(path_text)
    name = path.name.removeprefix("input-")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            if not columns:
                raise DomainError(f"{name} is empty: expected a CSV header line", field="file")
            return columns, list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DomainError(f"cannot read {name}: {error}", field="file") from None


def _opened(path_text: str) -> Path:
    path = Path(path_text)
    if not path.is_file():
        name = path.name.removeprefix("input-")
        raise DomainError(f"the file {name} is no longer there", field="file")
    return path


def run_ticket_import(job, progress) -> dict:
    """Import the uploaded file as ``servicebook import tickets`` does: read row by row, the
    tickets written a chunk at a time, never the whole file in memory."""
    params = job.params
    progress(1, 100, "reading the file")
    path = _opened(job.input_file)
    name = path.name.removeprefix("input-")
    try:
        with intake.CsvFile(path) as file:
            reader = file.reader
            columns = list(reader.fieldnames or [])
            if not columns:
                raise DomainError(f"{name} is empty: expected a CSV header line", field="file")
            result = services.import_tickets(
                actor=job.user,
                rows=reader,
                reread=lambda: intake.CsvFile.rows(path),
                fmt=params.get("format", "servicenow"),
                columns=columns,
                agreement=params.get("agreement") or None,
                source=params.get("source") or None,
                time_zone=params.get("time_zone") or "UTC",
                filename=params.get("filename", ""),
                progress=progress,
                read_share=file.share,
            )
    except (UnicodeDecodeError, csv.Error) as error:
        raise DomainError(f"cannot read {name}: {error}", field="file") from None
    rejects = jobs.write_rejects(job, columns, result.rejects)
    if result.batch is not None:
        result.batch.rejects_path = rejects
        result.batch.save(update_fields=["rejects_path"])
    summary = result.summary()
    return {**summary, "rows_imported": summary["rows_accepted"], "rejects_file": rejects}


def run_outage_import(job, progress) -> dict:
    progress(1, 100, "reading the file")
    columns, rows = read_csv(job.input_file)
    progress(20, 100, f"importing {len(rows):,} outages")
    result = services.import_outages(
        actor=job.user,
        rows=rows,
        columns=columns,
        time_zone=job.params.get("time_zone") or "UTC",
        filename=job.params.get("filename", ""),
    )
    rejects = jobs.write_rejects(job, columns, result.pop("rejects"))
    rows_imported = result["rows_read"] - result["rows_rejected"]
    return {**result, "rows_imported": rows_imported, "rejects_file": rejects}


def run_recompute(job, progress) -> dict:
    """Recompute the agreements whose inputs changed (one agreement: ``params["agreement"]``)."""
    from servicebook.agreements.models import Agreement

    agreements = Agreement.objects.filter(status="active").order_by("reference")
    if job.params.get("agreement"):
        agreements = Agreement.objects.filter(pk=job.params["agreement"])
    agreements = list(agreements)
    recomputed = []
    for number, agreement in enumerate(agreements):
        progress(number, len(agreements), f"measuring {agreement.reference}")
        if job.params.get("agreement"):
            services.recompute_attainment(
                actor=job.user, agreement=agreement, reason="recompute job"
            )
            recomputed.append(agreement.reference)
        elif services.refresh_if_stale(agreement=agreement):
            recomputed.append(agreement.reference)
    progress(len(agreements), len(agreements), "done")
    return {"agreements_checked": len(agreements), "agreements_recomputed": recomputed}


def stale(agreement) -> bool:
    """Whether the agreement's stored attainment was measured from other inputs than today's."""
    from servicebook.levels.models import LevelsState
    from servicebook.levels.selectors import fingerprint, now_epoch

    state = LevelsState.objects.filter(agreement=agreement).first()
    return state is None or state.fingerprint != fingerprint(agreement, now_epoch())


def recompute_later(*, agreement=None) -> None:
    """``ports.measurement_changed``: once the change commits, queue one recomputation job (none
    if one is queued already, or if nothing it would recompute is out of date)."""

    def queue() -> None:
        from servicebook.agreements.models import Agreement

        candidates = Agreement.objects.filter(status="active")  # as stored, not as passed
        if agreement is not None:
            candidates = candidates.filter(pk=agreement.pk)
        if any(stale(a) for a in candidates):
            jobs.start_once(kind=RECOMPUTE, params={})

    transaction.on_commit(queue)


def recompute_queued() -> bool:
    """Whether a recomputation is queued or running (pages say a newer one is on its way)."""
    return jobs.queued_or_running(RECOMPUTE)


KINDS = (
    JobKind(
        IMPORT_TICKETS,
        "Ticket import",
        run_ticket_import,
        _may(*services.LEVEL_EDITORS),
    ),
    JobKind(
        IMPORT_OUTAGES,
        "Outage import",
        run_outage_import,
        _may(*services.LEVEL_EDITORS),
    ),
    JobKind(RECOMPUTE, "Attainment recomputation", run_recompute, _may(*services.RECOMPUTERS)),
)
