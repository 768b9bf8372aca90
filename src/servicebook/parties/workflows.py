"""The customer lifecycle, declared once (``core.workflow``).

prospect → due diligence → active ⇄ suspended; any of them → terminated (R16). Nothing is ever
deleted: a terminated customer keeps its history.
"""

from __future__ import annotations

from servicebook.core.workflow import Workflow, register
from servicebook.parties.models import Customer, CustomerEvent, CustomerStatus

S = CustomerStatus

CUSTOMER = register(
    Workflow(
        what="customer",
        model=Customer,
        transitions={
            S.PROSPECT: {S.DUE_DILIGENCE, S.TERMINATED},
            S.DUE_DILIGENCE: {S.ACTIVE, S.TERMINATED},
            S.ACTIVE: {S.SUSPENDED, S.TERMINATED},
            S.SUSPENDED: {S.ACTIVE, S.TERMINATED},
            S.TERMINATED: set(),
        },
        initial={S.PROSPECT},
        event_model=CustomerEvent,
        subject_field="customer",
        name=lambda customer: customer.name,
    )
)
