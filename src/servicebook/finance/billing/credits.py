"""What a close asks other features: the service credits a breached contract earned (the levels
app, through ``servicebook.ports.service_credits``) and a contract's in-kind consideration items
(agreements, which finance builds on)."""

from __future__ import annotations

from typing import Any

from servicebook import ports
from servicebook.agreements.models import Agreement


def pending_credits(agreement: Agreement, period: str) -> list[Any]:
    """Service credits a breached contract earned in the period and not yet invoiced."""
    return list(ports.service_credits.get().pending(agreement, period))


def mark_credits_applied(credits: list[Any], reference: str, actor=None) -> None:
    """Record that the invoice ``reference`` carries these credits (they never change again)."""
    if not credits:
        return
    ports.service_credits.get().mark_applied(credits=credits, reference=reference, actor=actor)


def in_kind_items(agreement: Agreement) -> list[Any]:
    """The contract's in-kind consideration items."""
    return list(agreement.consideration_items.all())
