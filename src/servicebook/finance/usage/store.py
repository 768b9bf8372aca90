"""The usage store: metered usage kept as Parquet, partitioned by month, imported idempotently.

A provider meters VM hours, storage GB-months, seats and API calls -- hundreds of millions of
records a month.  They arrive as files (CSV or Parquet) from metering pipelines and cloud bills.
The store reads such a file (:mod:`.reading`), validates it against the catalogue the caller
knows (:mod:`.records`) and appends the accepted records to a store on disk::

    <root>/period=2024-09/part-<file hash>.parquet     usage records of September 2024
    <root>/_manifest.json                              one entry per import
    <root>/_rejects/<file hash>.csv                    rejected rows of an import

Guarantees
----------
* Atomic writes: every file is written to a temporary name in its final directory and moved into
  place with :func:`os.replace`; the manifest is written last.  A crash leaves either the old
  state or a part file that the next import of the same file overwrites.
* Idempotent: importing the same file again (same SHA-256) changes nothing; a record whose
  ``record_id`` is already stored (in the same period) is skipped, not duplicated.
* Accounting: ``rows_read == rows_imported + rows_skipped_duplicate + rows_rejected``, always.
* One writer at a time per store (an advisory ``fcntl`` lock on ``<root>/.lock``).
* Each part file is sorted by ``start_time``, in row groups of :data:`ROW_GROUP_ROWS`, so that
  rating can read a price segment's records by their row groups (:mod:`.rating.layout`).

Pure (Arrow and files, no Django): the Django side passes ``var/usage/``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from servicebook.finance.usage.reading import UTC, CsvProblems, period_of, read_raw
from servicebook.finance.usage.records import (
    STORE_SCHEMA,
    Offering,
    totals,
    validate,
    with_malformed,
)

#: records per Parquet row group of a part file: row groups are what engines read in parallel and
#: skip on their footer statistics
ROW_GROUP_ROWS = 131_072


@dataclass
class ImportSummary:
    """What one import did; also the manifest entry (decimals as strings)."""

    file_hash: str
    source: str
    periods: list[str]
    rows_read: int
    rows_imported: int
    rows_skipped_duplicate: int
    rows_rejected: int
    quantity_totals: dict[str, str] = field(default_factory=dict)  # unit -> total imported
    cost_totals: dict[str, str] = field(default_factory=dict)  # currency -> total imported
    rejects_path: str | None = None
    imported_at: str = ""
    already_imported: bool = False
    format: str = "csv"
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the FOCUS allocation report

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (the identity of an import)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` then move the temporary file over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class UsageStore:
    """Usage records as Parquet under ``root`` (the Django side passes ``var/usage/``)."""

    MANIFEST = "_manifest.json"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- reading
    def manifest(self) -> list[dict[str, Any]]:
        """All imports so far, oldest first."""
        path = self.root / self.MANIFEST
        if not path.exists():
            return []
        return json.loads(path.read_text(encoding="utf-8"))["imports"]

    def periods(self) -> list[str]:
        """Periods that hold records, sorted."""
        if not self.root.exists():
            return []
        return sorted(
            p.name.split("=", 1)[1]
            for p in self.root.glob("period=*")
            if p.is_dir() and any(p.glob("*.parquet"))
        )

    def parquet_glob(self, period: str) -> str:
        """Glob of the Parquet files of ``period`` -- pass it to :func:`rating.rate`."""
        return str(self.root / f"period={period}" / "*.parquet")

    def _files(self, period: str, exclude: str | None = None) -> list[Path]:
        files = sorted((self.root / f"period={period}").glob("part-*.parquet"))
        return [f for f in files if exclude is None or f.name != exclude]

    def read(self, period: str | None = None) -> pa.Table:
        """Records of one period (or of all periods), :data:`STORE_SCHEMA` + ``period``."""
        periods = [period] if period else self.periods()
        tables = []
        for p in periods:
            for f in self._files(p):
                t = pq.read_table(f, schema=STORE_SCHEMA)
                tables.append(t.append_column("period", pa.array([p] * t.num_rows, pa.string())))
        if not tables:
            return STORE_SCHEMA.append(pa.field("period", pa.string())).empty_table()
        return pa.concat_tables(tables)

    # -- writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def find_import(self, digest: str, entries: list[dict] | None = None) -> ImportSummary | None:
        """The summary of an earlier import of the file with this hash (nothing re-imported)."""
        for entry in self.manifest() if entries is None else entries:
            if entry["file_hash"] == digest:
                return ImportSummary(
                    file_hash=digest,
                    source=entry["source"],
                    periods=entry["periods"],
                    rows_read=entry["rows_read"],
                    rows_imported=0,
                    rows_skipped_duplicate=entry["rows_read"] - entry["rows_rejected"],
                    rows_rejected=entry["rows_rejected"],
                    rejects_path=entry["rejects_path"],
                    imported_at=entry["imported_at"],
                    already_imported=True,
                    format=entry.get("format", "csv"),
                    extra=entry.get("extra", {}),
                )
        return None

    def import_file(
        self,
        path: str | Path,
        *,
        source: str,
        customers: Mapping[str, int],
        offerings: Mapping[str, Offering | tuple[int, str]],
        period: str | None = None,
        currency: str | None = None,
        raw: pa.Table | None = None,
        customer_currencies: Mapping[str, str] | None = None,
        closed_periods: frozenset[str] | set[str] = frozenset(),
    ) -> ImportSummary:
        """Validate and import a usage file (CSV or Parquet); see :func:`validate`.

        ``raw`` may carry the rows already read/converted from ``path`` (the FOCUS importer does
        this); the file's hash is still the identity of the import.
        """
        digest = file_hash(path)
        with self._locked():
            entries = self.manifest()
            previous = self.find_import(digest, entries)
            if previous is not None:
                return previous
            problems = CsvProblems()
            table = raw if raw is not None else read_raw(path, problems)
            result = validate(
                table,
                customers=customers,
                offerings=offerings,
                period=period,
                currency=currency,
                source=source,
                import_hash=digest,
                customer_currencies=customer_currencies,
                closed_periods=closed_periods,
                row_numbers=problems.row_numbers,
            )
            if problems.malformed:
                result = with_malformed(result, problems.malformed)
            imported, periods, skipped = self._write_parts(result.accepted, digest)
            rejects_path = None
            if result.rows_rejected:
                dest = self.root / "_rejects" / f"{digest[:24]}.csv"
                atomic_write(dest, lambda tmp: pacsv.write_csv(result.rejected, tmp))
                rejects_path = str(dest)
            qty_totals, cost_totals = totals(imported)
            summary = ImportSummary(
                file_hash=digest,
                source=source,
                periods=periods,
                rows_read=result.rows_read,
                rows_imported=imported.num_rows,
                rows_skipped_duplicate=skipped,
                rows_rejected=result.rows_rejected,
                quantity_totals=qty_totals,
                cost_totals=cost_totals,
                rejects_path=rejects_path,
                imported_at=dt.datetime.now(UTC).isoformat(timespec="seconds"),
            )
            assert summary.rows_read == (
                summary.rows_imported + summary.rows_skipped_duplicate + summary.rows_rejected
            )
            self._record(entries, summary)
            return summary

    def _write_parts(self, accepted: pa.Table, digest: str) -> tuple[pa.Table, list[str], int]:
        """Write the accepted records, one part file per month, leaving out the record ids a
        month already holds. Returns the records written, their months and how many were left
        out as duplicates."""
        part_name = f"part-{digest[:24]}.parquet"
        imported_parts: list[pa.Table] = []
        periods: list[str] = []
        skipped = 0
        if not accepted.num_rows:
            return STORE_SCHEMA.empty_table(), periods, skipped
        rec_periods = period_of(accepted["start_time"])
        for p in sorted(set(rec_periods.to_pylist())):
            part = accepted.filter(pc.equal(rec_periods, p))
            # a part of this same file left by a crash is overwritten, not counted
            existing = [
                pq.read_table(f, columns=["record_id"])["record_id"]
                for f in self._files(p, exclude=part_name)
            ]
            if existing:
                ids = pa.chunked_array(existing).combine_chunks()
                seen = pc.is_in(part["record_id"], value_set=ids)
                skipped += pc.sum(seen).as_py() or 0
                part = part.filter(pc.invert(seen))
            if part.num_rows == 0:
                continue
            dest = self.root / f"period={p}" / part_name
            # in time order, in row groups of a few days at most: rating reads each price
            # segment's row groups only (rating.layout), and an engine reads row groups in parallel
            part = part.sort_by("start_time")
            atomic_write(
                dest, lambda tmp, t=part: pq.write_table(t, tmp, row_group_size=ROW_GROUP_ROWS)
            )
            imported_parts.append(part)
            periods.append(p)
        imported = (
            pa.concat_tables(imported_parts) if imported_parts else STORE_SCHEMA.empty_table()
        )
        return imported, periods, skipped

    def _record(self, entries: list[dict[str, Any]], summary: ImportSummary) -> None:
        """Append ``summary`` to the manifest (written last, atomically; caller holds the lock)."""
        entries.append(summary.to_dict())
        payload = json.dumps({"version": 1, "imports": entries}, indent=1, sort_keys=True)
        atomic_write(self.root / self.MANIFEST, lambda tmp: Path(tmp).write_text(payload, "utf-8"))

    def find(self, digest: str) -> dict[str, Any] | None:
        """The manifest entry of the file with SHA-256 ``digest``, if it was imported."""
        return next((e for e in self.manifest() if e["file_hash"] == digest), None)
