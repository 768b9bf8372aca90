"""What a close asks other features: the service credits a breached contract earned (the levels
app, through ``servicebook.ports.service_credits``) and a contract's in-kind consideration items
(agreements, which finance builds on)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from servicebook import ports
from servicebook.agreements.models import Agreement, ConsiderationItem


def pending_credits(agreement: Agreement, period: str) -> list[Any]:
    """Service credits a breached contract earned in the period and not yet invoiced."""
    return list(ports.service_credits.get().pending(agreement, period))


def mark_credits_applied(credits: list[Any], reference: str, actor=None) -> None:
    """Record that the invoice ``reference`` carries these credits (they never change again)."""
    if not credits:
        return
    ports.service_credits.get().mark_applied(credits=credits, reference=reference, actor=actor)


def in_kind_items(agreements: Iterable[int]) -> dict[int, list[Any]]:
    """The in-kind consideration items of these contracts (ids), by contract, in their order;
    contracts without any are left out. One query."""
    by_agreement: dict[int, list[Any]] = defaultdict(list)
    for item in ConsiderationItem.objects.filter(agreement_id__in=list(agreements)):
        by_agreement[item.agreement_id].append(item)
    return by_agreement
