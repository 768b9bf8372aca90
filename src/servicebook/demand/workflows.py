"""The demand-request state machine, declared once (``core.workflow``)."""

from __future__ import annotations

from servicebook.core.workflow import Workflow, register
from servicebook.demand.models import DemandEvent, DemandRequest, DemandStatus

S = DemandStatus

#: submitted → assessment ⇄ held (for a senior-management justification, R18) → approved |
#: rejected. Any open request may be decided; the approval blockers (the policy's check, a
#: missing justification) say why one is not approved yet.
DEMAND_REQUEST = register(
    Workflow(
        what="demand",
        model=DemandRequest,
        transitions={
            S.SUBMITTED: {S.ASSESSMENT, S.HELD, S.APPROVED, S.REJECTED},
            S.ASSESSMENT: {S.HELD, S.APPROVED, S.REJECTED},
            S.HELD: {S.ASSESSMENT, S.APPROVED, S.REJECTED},
            S.APPROVED: set(),
            S.REJECTED: set(),
        },
        initial={S.SUBMITTED},
        event_model=DemandEvent,
        subject_field="demand",
        name=lambda demand: demand.reference,
    )
)
#: the states in which a request is still being worked on
OPEN = frozenset(s for s, after in DEMAND_REQUEST.transitions.items() if after)
