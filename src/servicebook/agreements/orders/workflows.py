"""The order's life, declared once (``core.workflow``): submitted, then approved at once (within
the requester's authority) or awaiting an approver; approved orders are applied at the next
period close, rejected ones end there."""

from __future__ import annotations

from servicebook.agreements.orders.models import Order, OrderEvent, OrderStatus
from servicebook.core.workflow import Workflow, register

S = OrderStatus

ORDER = register(
    Workflow(
        what="order",
        model=Order,
        transitions={
            S.SUBMITTED: {S.AWAITING_APPROVAL, S.APPROVED},
            S.AWAITING_APPROVAL: {S.APPROVED, S.REJECTED},
            S.APPROVED: {S.APPLIED},
            S.REJECTED: set(),
            S.APPLIED: set(),
        },
        initial={S.SUBMITTED},
        event_model=OrderEvent,
        subject_field="order",
        name=lambda order: order.reference,
    )
)
