"""The finance app's models, registered under the ``finance`` label.

They live in the app's packages (``ledger``, ``costing``, ``usage``, ``billing``; see
docs/decisions/0011-finance-packages.md); Django imports ``<app>.models`` to register an app's
models, so this module imports them. Code imports a model from its package, not from here.
"""

from servicebook.finance.billing.legal_models import CreditNote, DocumentSequence, TaxRate
from servicebook.finance.billing.models import (
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    Payment,
    Reminder,
    Statement,
    StatementLine,
)
from servicebook.finance.costing.models import (
    AllocationRule,
    AllocationShare,
    CostPool,
    DriverValue,
    PriceFloorOverride,
    ServiceCost,
    UnitCost,
)
from servicebook.finance.ledger.models import (
    Account,
    JournalEntry,
    JournalLine,
    Period,
    PeriodEvent,
    validate_period,  # migrations 0001 and 0002 (which never change) name it here
)
from servicebook.finance.usage.models import (
    CloudCharge,
    CloudMapping,
    UsageImport,
    UsageImportEvent,
)

__all__ = [
    "Account",
    "AllocationRule",
    "AllocationShare",
    "CloudCharge",
    "CloudMapping",
    "CostPool",
    "CreditNote",
    "DocumentSequence",
    "DriverValue",
    "Invoice",
    "InvoiceEvent",
    "InvoiceLine",
    "JournalEntry",
    "JournalLine",
    "Payment",
    "Period",
    "PeriodEvent",
    "PriceFloorOverride",
    "Reminder",
    "ServiceCost",
    "Statement",
    "StatementLine",
    "TaxRate",
    "UnitCost",
    "UsageImport",
    "UsageImportEvent",
    "validate_period",
]
