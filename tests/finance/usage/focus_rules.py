"""The FOCUS 1.2 rules (the FinOps Foundation's ``model-1.2.0.1.json``, vendored under
``tests/data/focus-1.2/``) checked on a dataset without the validator.

Checked: every active, static rule whose keyword is MUST or MUST NOT, of each column the dataset
has (whatever the rule's applicability criteria: a column we write must be right), and the
dataset rules (column presence) that apply to every provider (no applicability criteria).  A
child rule inherits the conditions of the composite rules above it; the children of an OR are
checked together (a row passes when one of them holds).  Products (``ListUnitPrice`` ×
``PricingQuantity`` = ``ListCost``) are compared exactly, in Decimal -- stricter than the
validator, which compares floats with a tolerance.  Dynamic rules, and ``CheckDecimalValue``
(which the validator does not implement either), are not checked.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

RULES = Path(__file__).resolve().parents[2] / "data" / "focus-1.2" / "model-1.2.0.1.json"
MANDATORY = ("MUST", "MUST NOT")
_DATETIME = re.compile(r"^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\dZ$")
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def _unit_pattern() -> re.Pattern[str]:
    """FOCUS's unit format (the same alternatives as the validator's ``FormatUnit``)."""
    sizes = (
        "b|Kb|Mb|Gb|Tb|Pb|Eb|B|KB|MB|GB|TB|PB|EB|Kib|Mib|Gib|Tib|Pib|Eib|KiB|MiB|GiB|TiB|PiB|EiB"
    )
    one = "Year|Month|Day|Hour|Minute|Second"
    many = "Years|Months|Days|Hours|Minutes|Seconds"
    count = r"[A-Za-z][A-Za-z0-9]*(?:\s+[A-Za-z][A-Za-z0-9]*)*"
    forms = [
        f"^({sizes}|{one}|{many}|{count})$",
        f"^({sizes}|{count})-({many})$",
        f"^({sizes}|{count}|{many})/({one})$",
        f"^[0-9]+ ({sizes}|{one}|{many}|{count})$",
        f"^({sizes}|{count}|{many})/[0-9]+ ({many})$",
    ]
    return re.compile("|".join(f"({f})" for f in forms))


UNIT = _unit_pattern()


@cache
def model() -> dict[str, Any]:
    return json.loads(RULES.read_text(encoding="utf-8"))


@dataclass
class Dataset:
    """A FOCUS file read back: its columns and rows (CSV cells as text, Parquet cells typed)."""

    columns: list[str]
    rows: list[dict[str, Any]]
    fmt: str


def read(content: bytes, fmt: str) -> Dataset:
    if fmt == "parquet":
        table = pq.read_table(io.BytesIO(content))
        return Dataset(table.column_names, table.to_pylist(), fmt)
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    rows = [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]
    return Dataset(list(reader.fieldnames or []), rows, fmt)


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _equal(cell: Any, value: Any) -> bool:
    if value is None:
        return cell is None
    if cell is None:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _dec(cell) == Decimal(str(value))
    return str(cell) == str(value)


def _datetime(cell: Any, fmt: str) -> bool:
    if fmt == "parquet":
        return isinstance(cell, datetime) and cell.utcoffset() is not None and not cell.utcoffset()
    return isinstance(cell, str) and bool(_DATETIME.match(cell))


def _decimal(cell: Any, fmt: str) -> bool:
    if fmt == "parquet":
        return isinstance(cell, Decimal)
    return isinstance(cell, str) and bool(_NUMERIC.match(cell))


def holds(check: dict[str, Any], row: dict[str, Any], data: Dataset) -> bool:
    """Whether one row satisfies a check (a requirement or a condition) of the model."""
    fn = check.get("CheckFunction")
    col = check.get("ColumnName")
    cell = row.get(col) if col else None
    if fn == "AND":
        return all(holds(item, row, data) for item in check["Items"])
    if fn == "OR":
        return any(holds(item, row, data) for item in check["Items"])
    if fn == "CheckModelRule":
        return rule_holds_on_row(check["ModelRuleId"], row, data)
    if fn == "CheckValue":
        return _equal(cell, check.get("Value"))
    if fn == "CheckNotValue":
        return not _equal(cell, check.get("Value"))
    if fn == "CheckSameValue":
        return row.get(check["ColumnAName"]) == row.get(check["ColumnBName"])
    if fn == "CheckNotSameValue":
        return row.get(check["ColumnAName"]) != row.get(check["ColumnBName"])
    if fn == "CheckGreaterOrEqualThanValue":
        number = _dec(cell)
        return number is not None and number >= Decimal(str(check["Value"]))
    if fn == "ColumnByColumnEqualsColumnValue":
        a, b = _dec(row.get(check["ColumnAName"])), _dec(row.get(check["ColumnBName"]))
        result = _dec(row.get(check["ResultColumnName"]))
        return None in (a, b, result) or a * b == result
    if fn == "ColumnPresent":
        return col in data.columns
    if cell is None:  # the format and type checks below say nothing of a null
        return True
    if fn == "FormatString":
        return str(cell).isascii()
    if fn in ("FormatDateTime", "TypeDateTime"):
        return _datetime(cell, data.fmt)
    if fn in ("FormatNumeric", "TypeDecimal"):
        return _decimal(cell, data.fmt)
    if fn == "TypeString":
        return isinstance(cell, str)
    if fn == "FormatUnit":
        return bool(UNIT.match(str(cell)))
    if fn in ("FormatCurrency", "CheckNationalCurrency"):
        return isinstance(cell, str) and bool(re.fullmatch(r"[A-Z]{3}", cell))
    return True  # CheckDecimalValue, FormatKeyValue...: not checked


def rule_holds_on_row(rule_id: str, row: dict[str, Any], data: Dataset) -> bool:
    rule = model()["ModelRules"][rule_id]
    criteria = rule["ValidationCriteria"]
    if criteria.get("Condition") and not holds(criteria["Condition"], row, data):
        return True
    return holds(criteria.get("Requirement") or {}, row, data)


@cache
def _parents() -> dict[str, list[str]]:
    """Each rule's composite parents (the rules whose requirement names it)."""
    parents: dict[str, list[str]] = defaultdict(list)

    def walk(parent: str, check: dict[str, Any]) -> None:
        if check.get("CheckFunction") == "CheckModelRule":
            parents[check["ModelRuleId"]].append(parent)
        for item in check.get("Items") or []:
            walk(parent, item)

    for rule_id, rule in model()["ModelRules"].items():
        walk(rule_id, rule["ValidationCriteria"].get("Requirement") or {})
    return parents


def _inherited(rule_id: str, row: dict[str, Any], data: Dataset, seen=()) -> bool:
    """Whether the conditions of every composite rule above ``rule_id`` hold on the row."""
    for parent in _parents().get(rule_id, []):
        if parent in seen:
            continue
        condition = model()["ModelRules"][parent]["ValidationCriteria"].get("Condition")
        if condition and not holds(condition, row, data):
            return False
        if not _inherited(parent, row, data, (*seen, rule_id)):
            return False
    return True


def _under_or(rule_id: str) -> bool:
    rules = model()["ModelRules"]
    for parent in _parents().get(rule_id, []):
        requirement = rules[parent]["ValidationCriteria"].get("Requirement") or {}
        if requirement.get("CheckFunction") == "OR":
            return True
    return False


def _leaf(requirement: dict[str, Any]) -> bool:
    fn = requirement.get("CheckFunction")
    if fn == "CheckModelRule":
        return False
    if fn in ("AND", "OR"):
        items = requirement["Items"]
        # an OR of rules is checked as one (its children together); an AND of rules is not
        return fn == "OR" or all(_leaf(item) for item in items)
    return bool(fn)


def applicable(data: Dataset) -> list[str]:
    """The mandatory static rules that apply to this dataset."""
    out = []
    for rule_id, rule in model()["ModelRules"].items():
        criteria = rule["ValidationCriteria"]
        if rule["Status"] != "Active" or rule["Type"] != "Static":
            continue
        if criteria.get("Keyword") not in MANDATORY or _under_or(rule_id):
            continue
        if not _leaf(criteria.get("Requirement") or {}):
            continue
        if rule["EntityType"] == "Dataset":
            if not rule["ApplicabilityCriteria"]:
                out.append(rule_id)
        elif rule["Reference"] in data.columns:
            out.append(rule_id)
    return out


def _distinct_count(check: dict[str, Any], data: Dataset) -> list[str]:
    seen: dict[Any, set[Any]] = defaultdict(set)
    for row in data.rows:
        seen[row.get(check["ColumnAName"])].add(row.get(check["ColumnBName"]))
    return [f"{a}: {len(b)}" for a, b in seen.items() if len(b) != check["ExpectedCount"]]


def violations(data: Dataset) -> dict[str, list[str]]:
    """{rule id: what breaks it} for the mandatory rules the dataset breaks (empty: none)."""
    found: dict[str, list[str]] = {}
    rules = model()["ModelRules"]
    for rule_id in applicable(data):
        criteria = rules[rule_id]["ValidationCriteria"]
        requirement = criteria["Requirement"]
        if requirement.get("CheckFunction") == "CheckDistinctCount":
            bad = _distinct_count(requirement, data)
        elif rules[rule_id]["EntityType"] == "Dataset":
            bad = [] if holds(requirement, {}, data) else ["the dataset"]
        else:
            bad = [
                f"row {n}: {criteria['MustSatisfy']}"
                for n, row in enumerate(data.rows, start=1)
                if _inherited(rule_id, row, data) and not rule_holds_on_row(rule_id, row, data)
            ]
        if bad:
            found[rule_id] = bad[:3]
    return found
