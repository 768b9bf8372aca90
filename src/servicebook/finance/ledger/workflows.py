"""The period's life, declared once (``core.workflow``): a month of the books is open, then
closed by the period close (statements, invoices, journal entries, then the lock). A closed
period never opens again: corrections are adjustments in an open period."""

from __future__ import annotations

from servicebook.core.workflow import Workflow, register
from servicebook.finance.ledger.models import Period, PeriodEvent, PeriodStatus

PERIOD = register(
    Workflow(
        what="period",
        model=Period,
        transitions={PeriodStatus.OPEN: {PeriodStatus.CLOSED}, PeriodStatus.CLOSED: set()},
        initial={PeriodStatus.OPEN},
        event_model=PeriodEvent,
        subject_field="period",
        name=lambda period: period.period,
    )
)
