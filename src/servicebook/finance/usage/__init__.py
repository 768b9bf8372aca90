"""Usage at scale: the usage store (metered usage as Parquet), FOCUS cloud bills and the rules
that allocate their cost to customers, the rating kernel, imports and FOCUS exports.

Builds on the ledger (closed periods) only, never on costing or billing: billing prices the
usage at the close.
"""
