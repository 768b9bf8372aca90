"""Master data from CSV: the kinds the apps declare, gathered for the command and the page.

``servicebook import master FILE --kind …`` (:mod:`servicebook.cli_master`) and the upload page
(:mod:`servicebook.web.masterdata_views`) both read the file here and run it through
:func:`servicebook.core.masterdata.import_rows`; docs/master-data.md explains the columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from servicebook.catalog import masterdata as catalog_data
from servicebook.core.masterdata import (
    FileRefused,
    MasterKind,
    MasterResult,
    column_name,
    import_rows,
)
from servicebook.core.roles import has_role, is_provider_staff
from servicebook.core.spreadsheets import safe_row
from servicebook.parties import masterdata as parties_data

#: In the order a provider loads them: customers before their contacts, services before
#: their offerings.
KINDS: dict[str, MasterKind] = {
    kind.name: kind for kind in (*parties_data.KINDS, *catalog_data.KINDS)
}
REJECT_COLUMNS = ("row", "field", "reason")


def kind_named(name: str) -> MasterKind:
    try:
        return KINDS[name]
    except KeyError:
        raise FileRefused(
            f"unknown kind {name!r}: one of {', '.join(KINDS)}", field="kind"
        ) from None


def kinds_for(user) -> list[MasterKind]:
    """The kinds ``user`` may load (staff holding a role the kind's services accept)."""
    if not is_provider_staff(user):
        return []
    return [kind for kind in KINDS.values() if has_role(user, *kind.roles)]


def read_csv(data: bytes | str, *, name: str = "the file") -> tuple[list[str], list[dict]]:
    """The header and rows of CSV text (UTF-8, a byte-order mark allowed); FileRefused else."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileRefused(f"{name} is not UTF-8 text: save it as CSV (UTF-8)") from None
    else:
        data = data.removeprefix("\ufeff")
    try:
        reader = csv.DictReader(io.StringIO(data, newline=""))
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    except csv.Error as error:
        raise FileRefused(f"cannot read {name}: {error}") from None
    if not columns:
        raise FileRefused(f"{name} is empty: expected a CSV header line")
    return columns, rows


def import_file(
    *, actor, kind: str, data: bytes | str, name: str = "the file", dry_run: bool = False
) -> tuple[list[str], MasterResult]:
    """Load one CSV file of ``kind``; returns its header and what came of it."""
    master = kind_named(kind)
    columns, rows = read_csv(data, name=name)
    return columns, import_rows(master, actor=actor, columns=columns, rows=rows, dry_run=dry_run)


def rejects_csv(result: MasterResult, columns: Sequence[str]) -> str:
    """The rejected rows as CSV: row, field, reason, then the row's own cells (written safe to
    open in a spreadsheet, like every rejects file)."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [c for c in columns if c]
    writer.writerow([*REJECT_COLUMNS, *columns])
    for reject in result.rejects:
        cells = [reject.values.get(column_name(c), "") for c in columns]
        writer.writerow(safe_row([reject.row, reject.field, reject.reason, *cells]))
    return out.getvalue()
