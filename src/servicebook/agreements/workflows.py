"""The agreement lifecycle, declared once (``core.workflow``).

draft ⇄ negotiation → active → expired | terminated; a draft may be activated directly. Activation
is further guarded by the agreement's blockers (due diligence, signature, price floor, data
locations), checked by the service.
"""

from __future__ import annotations

from servicebook.agreements.models import Agreement, AgreementEvent, AgreementStatus
from servicebook.core.workflow import Workflow, register

S = AgreementStatus

AGREEMENT = register(
    Workflow(
        what="agreement",
        model=Agreement,
        transitions={
            S.DRAFT: {S.NEGOTIATION, S.ACTIVE},
            S.NEGOTIATION: {S.DRAFT, S.ACTIVE},
            S.ACTIVE: {S.EXPIRED, S.TERMINATED},
            S.EXPIRED: set(),
            S.TERMINATED: set(),
        },
        initial={S.DRAFT},
        event_model=AgreementEvent,
        subject_field="agreement",
        name=lambda agreement: agreement.reference,
    )
)
