"""The request-for-change state machine, declared once (``core.workflow``)."""

from __future__ import annotations

from servicebook.changes.models import ChangeEvent, ChangeRequest, ChangeStatus, ChangeType
from servicebook.core.workflow import Workflow, register

S = ChangeStatus

#: draft → assessment → awaiting approval → approved | rejected → scheduled → implemented →
#: reviewed. A new window sends an approved or scheduled change back to its approvals; an
#: emergency change may be scheduled before them (approved after the fact).
CHANGE_REQUEST = register(
    Workflow(
        what="change request",
        model=ChangeRequest,
        transitions={
            S.DRAFT: {S.ASSESSMENT},
            S.ASSESSMENT: {S.AWAITING_APPROVAL},
            S.AWAITING_APPROVAL: {S.APPROVED, S.REJECTED, S.SCHEDULED},
            S.APPROVED: {S.SCHEDULED, S.AWAITING_APPROVAL},
            S.SCHEDULED: {S.IMPLEMENTED, S.AWAITING_APPROVAL},
            S.IMPLEMENTED: {S.REVIEWED},
            S.REJECTED: set(),
            S.REVIEWED: set(),
        },
        initial={S.DRAFT},
        guards={
            (S.AWAITING_APPROVAL, S.SCHEDULED): (
                lambda change: change.change_type == ChangeType.EMERGENCY,
                "only an emergency change is scheduled before its approvals",
            ),
        },
        event_model=ChangeEvent,
        subject_field="change",
        name=lambda change: change.reference,
    )
)
