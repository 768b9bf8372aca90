"""The improvement and service-review state machines, declared once (``core.workflow``)."""

from __future__ import annotations

from servicebook.core.workflow import Workflow, register
from servicebook.improvement.models import (
    Improvement,
    ImprovementEvent,
    ImprovementStatus,
    ReviewStatus,
    ServiceReview,
    ServiceReviewEvent,
)

S = ImprovementStatus

#: draft → proposed → approved → in progress → done → verified; any open item may be dropped.
#: Draft only for items raised automatically (a breach, repeated breaches) or saved unfinished.
IMPROVEMENT = register(
    Workflow(
        what="improvement",
        model=Improvement,
        transitions={
            S.DRAFT: {S.PROPOSED, S.DROPPED},
            S.PROPOSED: {S.APPROVED, S.DROPPED},
            S.APPROVED: {S.IN_PROGRESS, S.DROPPED},
            S.IN_PROGRESS: {S.DONE, S.DROPPED},
            S.DONE: {S.VERIFIED, S.DROPPED},
            S.VERIFIED: set(),
            S.DROPPED: set(),
        },
        initial={S.DRAFT, S.PROPOSED},
        event_model=ImprovementEvent,
        subject_field="improvement",
        name=lambda item: f"“{item.title}”",
    )
)

#: prepared (the pack) → held (the meeting, with its minutes).
SERVICE_REVIEW = register(
    Workflow(
        what="service review",
        model=ServiceReview,
        transitions={ReviewStatus.PREPARED: {ReviewStatus.HELD}, ReviewStatus.HELD: set()},
        initial={ReviewStatus.PREPARED},
        event_model=ServiceReviewEvent,
        subject_field="review",
        name=lambda review: f"of {review.customer} for {review.period}",
    )
)
