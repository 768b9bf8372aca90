"""The names of the finance app's background job kinds (``servicebook.finance.jobs``), apart so
that the pages of each finance package can start one without importing the others."""

IMPORT_USAGE = "finance.import_usage"
IMPORT_COSTS = "finance.import_costs"
CLOSE_PERIOD = "finance.close_period"
VERIFY_LEDGER = "finance.verify_ledger"
