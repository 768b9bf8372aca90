"""The service credit's life, declared once (``core.workflow``): earned pending, then applied to
one invoice (R13). An applied credit never changes again."""

from __future__ import annotations

from servicebook.core.workflow import Workflow, register
from servicebook.levels.models import Credit, CreditEvent, CreditStatus

CREDIT = register(
    Workflow(
        what="service credit",
        model=Credit,
        transitions={CreditStatus.PENDING: {CreditStatus.APPLIED}, CreditStatus.APPLIED: set()},
        initial={CreditStatus.PENDING},
        event_model=CreditEvent,
        subject_field="credit",
        name=lambda credit: f"of {credit.period} for {credit.target}",
    )
)
