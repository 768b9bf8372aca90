"""The finance app's admin: each package registers its own (Django autodiscovers this module)."""

from servicebook.finance.billing import admin as billing_admin  # noqa: F401
from servicebook.finance.costing import admin as costing_admin  # noqa: F401
from servicebook.finance.ledger import admin as ledger_admin  # noqa: F401
