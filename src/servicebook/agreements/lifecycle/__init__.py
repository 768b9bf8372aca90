"""The contract's whole life (R23, decision 0023): reminders before the notice deadline,
renewal into the next term as a new version, expiry, and termination by notice of either side."""
