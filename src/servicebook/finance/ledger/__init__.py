"""The ledger: accounts, journal entries and lines, periods and their lock, ``ledger verify``.

The bottom of finance: it depends on core, policy and parties only; costing, usage and billing
build on it, never the other way round (``.importlinter``).
"""

# Migration 0001 (which never changes) installs the PostgreSQL triggers by these names.
from servicebook.finance.ledger.triggers import drop_pg_triggers, install_pg_triggers

__all__ = ["drop_pg_triggers", "install_pg_triggers"]
