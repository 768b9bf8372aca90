"""Deliverables of a contract, or of a change the customer paid for, and their acceptance by the
customer's authorized person (R23, decision 0023)."""
