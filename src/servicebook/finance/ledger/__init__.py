"""The ledger: accounts, journal entries and lines, periods and their lock, ``ledger verify``.

The bottom of finance: it depends on core, policy and parties only; costing, usage and billing
build on it, never the other way round (``.importlinter``).
"""
