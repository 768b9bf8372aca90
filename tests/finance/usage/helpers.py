"""Shared helpers of the usage-at-scale tests: files, the FOCUS sample, store snapshots."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FULL_SAMPLE = REPO / "src" / "servicebook" / "finance" / "data" / "focus-1.0" / "focus_sample.csv"
SMALL_SAMPLE = REPO / "tests" / "data" / "usage" / "focus_sample_100.csv"
HEADER = "record_id,customer,offering,quantity,unit,start_time,end_time"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def usage_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    return write(path, "\n".join([header, *rows]) + "\n")


def snapshot(root: Path) -> dict[str, str]:
    """Every file under the store with its SHA-256: equal snapshots mean nothing changed."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def replay(source: Path, target: Path, period: str, *, rows: int | None = None, **changes) -> Path:
    """Copy a FOCUS file with its September 2024 dates moved to ``period`` (and cells changed:
    ``changes`` maps a row index to {column: value})."""
    year, month = (int(p) for p in period.split("-"))
    nxt = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    with (
        source.open(newline="", encoding="utf-8-sig") as fh,
        target.open("w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(fh)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        for i, row in enumerate(reader):
            if rows is not None and i >= rows:
                break
            for name in (
                "BillingPeriodStart",
                "BillingPeriodEnd",
                "ChargePeriodStart",
                "ChargePeriodEnd",
            ):
                row[name] = (
                    row[name].replace("2024-10-", f"{nxt}-").replace("2024-09-", f"{period}-")
                )
            row.update(changes.get(f"row{i}", {}))
            writer.writerow(row)
    return target
