"""Costing: what the provider spends (TBM cost pools), how it reaches services (allocation rules
and driver values), the cost of each service and the unit cost of each offering per month (R4),
and the price floor of commercial contracts (R6). Builds on the ledger (periods) only.
"""
