"""Billing: the period close (pricing, statements, invoices, posting), payments, reminders,
reports and consumption at cost. The top of finance: it builds on ledger, costing and usage."""
