"""Loading an organization's own master data from CSV: the machinery every kind shares.

A :class:`MasterKind` (customers, contacts, services, offerings: declared by the apps that own
them, ``parties.masterdata`` and ``catalog.masterdata``) says which columns its file has, which
of them form the natural key, and how one row is written through the app's own services (the
same create/update functions as the forms and the API). :func:`import_rows` runs a file:

- a header with a missing required column or an unknown column refuses the whole file
  (:class:`FileRefused`, naming the columns); nothing else does;
- each row is parsed from the model's own field types, then created or updated by its key in a
  savepoint: a row the services refuse is rolled back whole and becomes a reject
  (row number, field, reason), never a partial write;
- ``rows_read == created + updated + rejected``; ``unchanged`` counts the updated rows whose
  values were already stored (nothing was written for them), so a second run of the same file
  reads ``created 0, updated N, unchanged N``;
- a dry run does everything in a transaction that is rolled back: the same counts, no write.

Core knows no app: the kinds are handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.services import require_role

TRUE = frozenset({"true", "yes", "y", "1", "t"})
FALSE = frozenset({"false", "no", "n", "0", "f"})
NUL = "\x00"


class FileRefused(DomainError):
    """The file cannot be used at all (columns missing or unknown, not CSV): nothing is read."""

    code = "file_refused"


class RowProblem(Exception):
    """Why one row is rejected: the column it concerns and the reason."""

    def __init__(self, column: str, reason: str):
        super().__init__(f"{column}: {reason}")
        self.column, self.reason = column, reason


@dataclass(frozen=True)
class Reject:
    row: int  # the data row's number (1 = the first row under the header)
    field: str  # the column at fault ("" when it is the row as a whole)
    reason: str
    values: Mapping[str, Any]

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass
class MasterResult:
    kind: str
    dry_run: bool = False
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def summary(self) -> dict:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects": [reject.as_dict() for reject in self.rejects],
        }


#: ``write(actor, values) -> "created" | "updated" | "unchanged"`` (values: the file's columns)
Writer = Callable[[Any, dict], str]


@dataclass(frozen=True)
class MasterKind:
    """One kind of master data a CSV file can load."""

    name: str  # "customers"
    title: str  # "Customers"
    model: type[models.Model]
    key: tuple[str, ...]  # the columns that find an existing record
    required: tuple[str, ...]  # the columns the header must have
    optional: tuple[str, ...]
    write: Writer
    roles: tuple[str, ...]  # who may load it (asked again by every service call)
    #: columns parsed by the kind itself (``column -> parse(text) -> value``), not from the model
    parsers: Mapping[str, Callable[[str], Any]] = field(default_factory=dict)
    #: what each column holds, for the documentation and the upload page
    help: Mapping[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


def column_name(column: str | None) -> str:
    """A header cell as a column name: ``" Code "`` is ``code``."""
    return (column or "").strip().lower()


def check_columns(kind: MasterKind, columns: Sequence[str] | None) -> list[str]:
    """The header's column names (:func:`column_name`); :class:`FileRefused` naming what is
    missing or unknown. A column without a name (a trailing comma) is left out."""
    header = [column_name(column) for column in (columns or ())]
    if not any(header):
        raise FileRefused("the file is empty: expected a CSV header line", field="file")
    if any(NUL in column for column in header):
        raise FileRefused("the header contains a NUL character, which is not text", field="file")
    problems = []
    missing = [name for name in kind.required if name not in header]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    unknown = [name for name in header if name and name not in kind.columns]
    if unknown:
        problems.append(
            f"unknown column(s) {', '.join(repr(n) for n in unknown)} "
            f"(the {kind.name} columns are {', '.join(kind.columns)})"
        )
    doubled = sorted({name for name in header if name and header.count(name) > 1})
    if doubled:
        problems.append(f"column(s) {', '.join(doubled)} given twice")
    if problems:
        raise FileRefused(f"{kind.name} file refused: {'; '.join(problems)}", field="file")
    return header


# --- reading a cell ----------------------------------------------------------------------------


def parse_flag(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise ValueError(f"{text!r} is not yes or no (true/false, 1/0 also work)")


def _choice(model_field: models.Field, text: str) -> str:
    """A choice by its value or its label (any case): ``Internal`` reads ``internal``."""
    for value, label in model_field.flatchoices:
        if text.lower() in (str(value).lower(), str(label).lower()):
            return value
    allowed = ", ".join(str(value) for value, _ in model_field.flatchoices if value != "")
    raise ValueError(f"{text!r} is not one of {allowed}")


def parse_cell(model_field: models.Field, text: str) -> Any:
    """A cell's text as the value the model field holds (blank: the field's empty value)."""
    text = text.strip()
    if isinstance(model_field, models.BooleanField):
        return model_field.get_default() if text == "" else parse_flag(text)
    if text == "":
        if model_field.null:
            return None
        return model_field.get_default() if model_field.has_default() else ""
    if model_field.choices:
        return _choice(model_field, text)
    if isinstance(model_field, models.DecimalField):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a number (write 1234.50)") from None
        if not number.is_finite():
            raise ValueError(f"{text!r} is not a number")
        return number
    if isinstance(model_field, models.IntegerField):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    return text


def parse_row(kind: MasterKind, row: Mapping[Any, Any], header: Sequence[str]) -> dict:
    """The row's values by column (only the columns the file has); :class:`RowProblem`."""
    values = {}
    for column in header:
        if not column:
            continue
        raw = row.get(column)
        if isinstance(raw, list):  # csv.DictReader puts extra cells under None, not here
            raw = ",".join(raw)
        if raw is None:  # csv.DictReader's filler for a row shorter than the header
            raise RowProblem(
                column, "the row has fewer cells than the header (look for an unclosed quote)"
            )
        text = str(raw)
        if NUL in text:
            raise RowProblem(column, "contains a NUL character, which is not text")
        try:
            if column in kind.parsers:
                values[column] = kind.parsers[column](text.strip())
            else:
                field = kind.model._meta.get_field(column)
                assert isinstance(field, models.Field)  # a column names a concrete field
                values[column] = parse_cell(field, text)
        except ValueError as error:
            raise RowProblem(column, str(error)) from None
    if row.get(None):  # more cells than the header has columns
        raise RowProblem("", "the row has more cells than the header has columns")
    for column in kind.key:
        if values.get(column) in (None, ""):
            raise RowProblem(column, f"{column} is empty: it identifies the record")
    return values


# --- running a file ----------------------------------------------------------------------------


def _reject(number: int, row: Mapping, error: Exception) -> Reject:
    values = {k: v for k, v in row.items() if k is not None}
    if isinstance(error, RowProblem):
        return Reject(number, error.column, error.reason, values)
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            errors = error.message_dict
            fields = [name for name in errors if name != NON_FIELD_ERRORS]
            named = len(errors) > 1  # one field's reason needs no name: the field column has it
            reason = "; ".join(
                f"{name}: {' '.join(messages)}"
                if named and name != NON_FIELD_ERRORS
                else " ".join(messages)
                for name, messages in errors.items()
            )
            return Reject(number, ", ".join(fields), reason, values)
        return Reject(number, "", "; ".join(error.messages), values)
    if isinstance(error, DomainError):
        return Reject(number, error.field or "", error.message, values)
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return Reject(number, "", f"the database refused the row: {first}", values)


def import_rows(
    kind: MasterKind,
    *,
    actor,
    columns: Sequence[str] | None,
    rows: Iterable[Mapping[str, Any]],
    dry_run: bool = False,
    progress: Callable[..., None] | None = None,
) -> MasterResult:
    """Load ``rows`` (dicts by column, as ``csv.DictReader`` gives them) of ``kind``."""
    header = check_columns(kind, columns)
    require_role(actor, *kind.roles, action=f"Loading {kind.name}")
    rows = list(rows)
    result = MasterResult(kind=kind.name, dry_run=dry_run)
    seen: dict[tuple, int] = {}
    with transaction.atomic():
        for number, row in enumerate(rows, start=1):
            result.rows_read += 1
            if progress is not None:
                progress(number, len(rows), f"row {number:,} of {len(rows):,}")
            row = {column_name(k) if k is not None else None: v for k, v in row.items()}
            try:
                values = parse_row(kind, row, header)
                key = tuple(str(values[c]).lower() for c in kind.key)
                if key in seen:
                    raise RowProblem(
                        kind.key[-1], f"the same {' and '.join(kind.key)} as row {seen[key]}"
                    )
                with transaction.atomic():  # a refused row leaves nothing behind
                    outcome = kind.write(actor, values)
                seen[key] = number
            except PermissionDenied:
                raise
            except (RowProblem, ValidationError, DomainError, DatabaseError) as error:
                result.rejects.append(_reject(number, row, error))
                continue
            if outcome == "created":
                result.created += 1
            else:
                result.updated += 1
                result.unchanged += outcome == "unchanged"
        if dry_run:
            transaction.set_rollback(True)
    return result


def differs(instance: models.Model, values: Mapping[str, Any]) -> bool:
    """Whether setting ``values`` on ``instance`` would change it."""
    return any(getattr(instance, name) != value for name, value in values.items())


def upsert(
    found: models.Model | None,
    values: dict,
    *,
    key: Sequence[str],
    create: Callable[[dict], Any],
    update: Callable[[dict], Any],
    changed: bool = False,
) -> str:
    """Create (``create(values)``) when nothing was ``found`` by the key; else update with the
    values but the key (``update(changes)``) unless they are stored already (and nothing else
    ``changed``). Returns ``"created"``, ``"updated"`` or ``"unchanged"``."""
    if found is None:
        create(values)
        return "created"
    changes = {name: value for name, value in values.items() if name not in key}
    if not changed and not differs(found, changes):
        return "unchanged"
    update(changes)
    return "updated"
