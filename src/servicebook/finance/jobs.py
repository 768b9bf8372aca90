"""The finance app's background jobs (``servicebook.ports.job_kinds``): usage imports (metered
CSV/Parquet or a FOCUS cloud bill), cost pool imports, the period close and the ledger
verification, started from the web and run by ``servicebook worker``."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse

from servicebook.core import jobs
from servicebook.core.errors import DomainError
from servicebook.core.jobkinds import JobKind
from servicebook.core.roles import has_role, is_provider_staff
from servicebook.finance.billing import services as billing
from servicebook.finance.costing import services as costing
from servicebook.finance.job_names import CLOSE_PERIOD, IMPORT_COSTS, IMPORT_USAGE, VERIFY_LEDGER
from servicebook.finance.ledger import access as ledger_access
from servicebook.finance.ledger.services import FINANCE
from servicebook.finance.usage import services as usage


def _may(*roles):
    return lambda user: is_provider_staff(user) and has_role(user, *roles)


def _input(job) -> Path:
    path = Path(job.input_file)
    if not path.is_file():
        raise DomainError(f"the file {path.name} is no longer there", field="file")
    return path


def run_usage_import(job, progress) -> dict:
    from servicebook.catalog.models import Offering

    params = dict(job.params)
    offering = params.pop("offering", None)
    progress(5, 100, "reading and checking the usage file")
    record, result = usage.import_usage(
        actor=job.user,
        path=_input(job),
        filename=params.pop("filename", "") or _input(job).name.removeprefix("input-"),
        period=params.pop("period", "") or None,
        offering=Offering.objects.get(pk=offering) if offering else None,
        **params,
    )
    progress(100, 100, "done")
    link = reverse("finance:usage-import", args=[record.pk])
    return {**result, "link": link, "link_label": "Open the import and its allocation report"}


def run_cost_import(job, progress) -> dict:
    progress(5, 100, "reading the cost pools")
    try:
        text = _input(job).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError(f"the file is not UTF-8 text: {error}", field="file") from None
    result = costing.import_cost_pools(
        actor=job.user, text=text, period=job.params.get("period") or None
    )
    progress(100, 100, "done")
    rejects = [(r["row"], {}, r["reason"]) for r in result["rejects"]]
    return {
        "rows_read": result["read"],
        "rows_imported": result["imported"],
        "rows_rejected": result["rejected"],
        "rejects_file": jobs.write_rejects(job, [], rejects) if rejects else "",
        "link": reverse("finance:costs"),
        "link_label": "Open the costs page",
    }


def run_close(job, progress) -> dict:
    period = job.params.get("period", "")
    progress(5, 100, f"closing {period}")
    result = billing.close_period(
        actor=job.user,
        period=period,
        dry_run=bool(job.params.get("dry_run")),
        progress=progress,
        earlier_reason=job.params.get("earlier_reason", ""),
    )
    progress(100, 100, "done")
    return {**result, "link": reverse("finance:documents"), "link_label": "Open the documents"}


def run_verify(job, progress) -> dict:
    from servicebook.finance.ledger.verify import verify_recorded

    progress(5, 100, "checking every invariant of the ledger")
    result = verify_recorded()
    progress(100, 100, "done")
    return {**result, "link": reverse("finance:ledger"), "link_label": "Open the ledger"}


KINDS = (
    JobKind(IMPORT_USAGE, "Usage import", run_usage_import, _may(*usage.USAGE_EDITORS)),
    JobKind(IMPORT_COSTS, "Cost pool import", run_cost_import, _may(*costing.COST_EDITORS)),
    JobKind(CLOSE_PERIOD, "Period close", run_close, _may(*FINANCE)),
    JobKind(VERIFY_LEDGER, "Ledger verification", run_verify, ledger_access.may_read_ledger),
)
