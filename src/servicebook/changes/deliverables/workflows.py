"""The deliverable's state machine, declared once (``core.workflow``): open → accepted; a
rejection is recorded on an open deliverable and leaves it open."""

from __future__ import annotations

from servicebook.changes.deliverables.models import (
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
)
from servicebook.core.workflow import Workflow, register

S = DeliverableStatus

DELIVERABLE = register(
    Workflow(
        what="deliverable",
        model=Deliverable,
        transitions={S.OPEN: {S.ACCEPTED}, S.ACCEPTED: set()},
        initial={S.OPEN},
        event_model=DeliverableEvent,
        subject_field="deliverable",
        name=lambda deliverable: deliverable.title,
    )
)
