"""Demo: equal customer service (R21) and feedback that acts (R15).

* October 2026's complaints: the account managers answered the external customers' complaints
  within hours, while the internal ones waited a day or more in the general queue. The parity
  report of 2026-10 flags the gap in time to first answer (beyond the tolerated 5 %, and
  significant), and the improvement it proposed for the internal customers is in the register.
* A low satisfaction score: Meridian Retail answers November's survey with 2 / 5; the follow-up
  its policy proposes (an improvement item driven by retention) is linked to the answer.
* SkyBridge's design feedback (a Frankfurt-only option) proposes a revision of the hosting
  service's design specification for its owner to review.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from servicebook.catalog.revisions import propose_revision
from servicebook.improvement.parity import propose_parity_improvements
from servicebook.parties import services as parties
from servicebook.parties.models import Feedback

PARITY_PERIOD = "2026-10"
#: (customer, day of October, hours to the first answer): internal ones wait, external do not
COMPLAINTS = [
    ("marketing", 2, 26),
    ("finance", 6, 31),
    ("hr", 9, 22),
    ("rnd", 14, 40),
    ("marketing", 20, 28),
    ("hr", 27, 35),
    ("airline", 3, 2),
    ("retail", 7, 4),
    ("orion", 12, 3),
    ("airline", 16, 5),
    ("retail", 21, 2),
    ("orion", 28, 6),
]


def load(ctx) -> None:
    _complaints(ctx)
    propose_parity_improvements(actor=ctx.users["manager"], period=PARITY_PERIOD)
    parties.submit_feedback(
        actor=ctx.users["manager"],
        customer=ctx.customers["retail"],
        service=ctx.offerings["laptop"].service,
        period="2026-11",
        score=2,
        comment="Store laptops wait three days for a replacement; our staff cannot sell.",
    )
    design = Feedback.objects.filter(customer=ctx.customers["airline"], topic="design").first()
    if design is not None:
        propose_revision(design)


def _complaints(ctx) -> None:
    """Answered and resolved complaints of October, loaded as history (as the surveys are)."""
    tz = timezone.get_current_timezone()
    service = ctx.offerings["laptop"].service
    for key, day, hours in COMPLAINTS:
        opened = dt.datetime(2026, 10, day, 9, 30, tzinfo=tz)
        complaint = Feedback.objects.create(
            customer=ctx.customers[key],
            service=service,
            period=PARITY_PERIOD,
            topic=Feedback.Topic.COMPLAINT,
            comment="A ticket was left without news for too long.",
            answer="We apologise: the ticket is with the right team now.",
            answered_at=opened + dt.timedelta(hours=hours),
            resolved_at=opened + dt.timedelta(hours=hours + 24),
        )
        Feedback.objects.filter(pk=complaint.pk).update(created_at=opened)
