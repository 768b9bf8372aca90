"""Finance: one Django app (label ``finance``) in four packages with one-way dependencies
(decision 0011, checked by import-linter): ``ledger`` <- ``costing`` | ``usage`` <- ``billing``.
"""
