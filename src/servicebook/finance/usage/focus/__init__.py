"""FOCUS: read cloud cost-and-usage exports, allocate them to customers, export our own charges.

FOCUS (the FinOps Open Cost and Usage Specification, https://focus.finops.org) is the common
column set in which AWS, Azure, Google Cloud, Oracle and others publish their bills: one row per
charge with ``BilledCost``, ``EffectiveCost``, ``ListCost``, ``BillingCurrency``, charge and
billing periods, ``ServiceName``, ``SubAccountId``, ``ResourceId``, ``Tags``...

* :func:`read_focus` reads FOCUS 1.0-and-later files, CSV or Parquet, surviving the quirks of real
  exports: the literal string ``NULL``, timestamps such as ``2024-09-01 00:00:00`` (taken as UTC),
  mixed casing of enumerations (``Usage-based`` / ``Usage-Based``, normalised to the spec's
  spelling), empty values, non-spec columns (kept as text) and ``Tags`` as a JSON string.  Money
  and quantity columns are parsed from text straight into decimal(38, 15) -- never through float.
* :func:`allocate` assigns each row's cost to an internal customer from caller-supplied mappings
  and reports allocated, shared and unallocated totals that add up exactly to the file total.
* :func:`import_focus` imports a bill into the usage store, allocated, row by row (a bad row is
  rejected, never the file).
* :func:`export_charges` writes our own rated charge lines (see :mod:`..rating`) as a
  FOCUS 1.2 dataset (CSV and Parquet) that :func:`read_focus` reads back;
  :func:`documents_to_focus` does the same for the charge lines of statements and invoices
  (what ``servicebook export focus``, the page and the API download).

Pure (Arrow, no Django). The package's modules: :mod:`.reading` (columns, reading, parsing),
:mod:`.allocate` (rules and exact allocation), :mod:`.importer` (into the usage store),
:mod:`.export` (FOCUS 1.2 datasets of our own charges), :mod:`.conform` (FOCUS units, ASCII
text, the version we follow).
"""

from servicebook.finance.usage.focus.allocate import (
    AllocationResult,
    AllocationRules,
    allocate,
    allocation_report,
    largest_remainder,
    owners,
)
from servicebook.finance.usage.focus.conform import FOCUS_VERSION, ascii_text, focus_unit
from servicebook.finance.usage.focus.export import (
    EXPORT_COLUMNS,
    LINE_CATEGORIES,
    charges_to_focus,
    derived_unit_price,
    documents_to_focus,
    export_charges,
    focus_bytes,
)
from servicebook.finance.usage.focus.importer import (
    FOCUS_STORE_SCHEMA,
    focus_totals,
    import_focus,
    read_stored,
)
from servicebook.finance.usage.focus.reading import (
    DECIMAL_COLUMNS,
    ENUMS,
    FOCUS_DECIMAL,
    REQUIRED_COLUMNS,
    TIMESTAMP_COLUMNS,
    FocusFormatError,
    bill_currency,
    bill_months,
    exact_text,
    read_focus,
    read_focus_rows,
    tag_values,
)

__all__ = [
    "DECIMAL_COLUMNS",
    "ENUMS",
    "EXPORT_COLUMNS",
    "FOCUS_DECIMAL",
    "FOCUS_STORE_SCHEMA",
    "FOCUS_VERSION",
    "LINE_CATEGORIES",
    "REQUIRED_COLUMNS",
    "TIMESTAMP_COLUMNS",
    "AllocationResult",
    "AllocationRules",
    "FocusFormatError",
    "allocate",
    "allocation_report",
    "ascii_text",
    "bill_currency",
    "bill_months",
    "charges_to_focus",
    "derived_unit_price",
    "documents_to_focus",
    "exact_text",
    "export_charges",
    "focus_bytes",
    "focus_totals",
    "focus_unit",
    "import_focus",
    "largest_remainder",
    "owners",
    "read_focus",
    "read_focus_rows",
    "read_stored",
    "tag_values",
]
