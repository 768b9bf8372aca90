"""What a close asks other features: the service credits a breached contract earned (levels) and a
contract's in-kind consideration items (agreements)."""

from __future__ import annotations

import importlib
from importlib.util import find_spec
from typing import Any

from servicebook.agreements.models import Agreement

# --- the contracts with other features (guarded: they may not exist yet) ------------------------


def credits_available() -> bool:
    """Whether the service levels feature (credits for breached contracts) is installed."""
    return (
        find_spec("servicebook.levels.selectors") is not None
        and find_spec("servicebook.levels.services") is not None
    )


def pending_credits(agreement: Agreement, period: str) -> list[Any]:
    """Service credits a breached contract earned in the period (levels feature), or none."""
    if not credits_available():
        return []
    selectors = importlib.import_module("servicebook.levels.selectors")
    if not hasattr(selectors, "pending_credits"):
        return []
    return list(selectors.pending_credits(agreement, period))


def mark_credits_applied(credits: list[Any], reference: str, actor=None) -> None:
    if not credits:
        return
    services = importlib.import_module("servicebook.levels.services")
    services.mark_credits_applied(credits=credits, reference=reference, actor=actor)


def in_kind_items(agreement: Agreement) -> list[Any]:
    """The contract's in-kind consideration items (agreements feature), or none."""
    related = getattr(agreement, "consideration_items", None)
    if related is None:
        return []
    return list(related.all())
