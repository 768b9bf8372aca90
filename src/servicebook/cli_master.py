"""``servicebook import master FILE --kind customers|contacts|services|offerings``: the
organization's own master data from CSV (docs/master-data.md).

Prints the counts (``rows_read = created + updated + rejected``) and writes the rejected rows,
with their row, field and reason, to ``VAR_DIR/rejects/``. Exits non-zero only for a file it
cannot use (missing or unknown columns, not CSV): a refused row is a reject, not a failure.

Refusals are ``DomainError`` (one line, exit 2, from ``servicebook.cli.main``): this module is
imported by ``servicebook.cli``, which may run as ``__main__``, so it never imports its classes.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

KIND_NAMES = ("customers", "contacts", "services", "offerings")


def register_import(sub) -> None:
    master = sub.add_parser(
        "master",
        help="load your own customers, contacts, services or offerings from CSV, idempotently",
    )
    master.add_argument("file", help="the CSV file (UTF-8, a header line; docs/master-data.md)")
    master.add_argument("--kind", choices=KIND_NAMES, required=True, help="what the file holds")
    master.add_argument(
        "--dry-run", action="store_true", help="check every row and count, but write nothing"
    )
    master.add_argument("--json", action="store_true", help="print the counts and rejects as JSON")
    master.set_defaults(func=cmd_import_master)


def _write_rejects(text: str, kind: str, stem: str) -> Path:
    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "rejects"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"master-{kind}-{stem}-{stamp}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def cmd_import_master(args: argparse.Namespace) -> int:
    from servicebook.cli import print_json, setup_django

    setup_django()
    from servicebook.core.errors import DomainError
    from servicebook.web import masterdata

    path = Path(args.file)
    if not path.is_file():
        raise DomainError(f"cannot read {args.file}: no such file")
    columns, result = masterdata.import_file(
        actor=None, kind=args.kind, data=path.read_bytes(), name=path.name, dry_run=args.dry_run
    )
    summary = {"file": str(path), **result.summary(), "rejects_path": None}
    if result.rejects:
        rejects = masterdata.rejects_csv(result, columns)
        summary["rejects_path"] = str(_write_rejects(rejects, args.kind, path.stem))
    if args.json:
        print_json(summary)
        return 0
    checked = "Checked (dry run, nothing written)" if args.dry_run else "Read"
    print(
        f"{checked} {result.rows_read} {args.kind} rows: {result.created} created, "
        f"{result.updated} updated ({result.unchanged} already up to date), "
        f"{result.rejected} rejected."
    )
    for reject in result.rejects[:20]:
        field = f" {reject.field}:" if reject.field else ""
        print(f"  row {reject.row}:{field} {reject.reason}")
    if result.rejected > 20:
        print(f"  … and {result.rejected - 20} more")
    if summary["rejects_path"]:
        print(f"Rejected rows with their reasons: {summary['rejects_path']}")
    return 0
