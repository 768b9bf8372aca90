"""Writes to the improvement register (minimal: the automatic item for a service level breach)."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from servicebook.core.services import save_validated
from servicebook.improvement.models import (
    Improvement,
    ImprovementEvent,
    ImprovementSource,
    ImprovementStatus,
)


@transaction.atomic
def propose_from_breach(
    *, target, period: str, attainment: Decimal | None, breaching_tickets_count: int
) -> Improvement:
    """The draft improvement item for a missed target of an internal agreement (R13).

    Idempotent: one item per (target, period), however often the breach is recomputed; an
    existing item is returned unchanged.
    """
    existing = Improvement.objects.filter(
        source=ImprovementSource.SERVICE_LEVEL_BREACH, target=target, period=period
    ).first()
    if existing is not None:
        return existing
    agreement = target.agreement
    measured = "no measurement" if attainment is None else f"{attainment}%"
    item = Improvement(
        title=f"{agreement.reference} {period}: {target} missed",
        customer=agreement.customer,
        agreement=agreement,
        target=target,
        period=period,
        source=ImprovementSource.SERVICE_LEVEL_BREACH,
        status=ImprovementStatus.DRAFT,
        description=(
            f"In {period} the target “{target}” attained {measured} "
            f"(target {target.attainment_percent}%); {breaching_tickets_count} ticket(s) "
            "breached. Find the cause with the customer and agree an improvement action."
        ),
    )
    try:
        with transaction.atomic():
            save_validated(item)
    except IntegrityError:  # created concurrently: return that one
        return Improvement.objects.get(
            source=ImprovementSource.SERVICE_LEVEL_BREACH, target=target, period=period
        )
    ImprovementEvent.objects.create(
        improvement=item,
        actor=None,
        action="raised",
        to_state=item.status,
        reason="service_level_breach",
        note=f"{target} in {period}",
    )
    return item
