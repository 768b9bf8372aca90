"""Demo: the objectives behind the demand, measured.

"Protect the group's research and intellectual property" (R&D Lab) stands behind the Lab's
secure data centre request: its share of confidential projects hosted inside the group is read
each month (entered by the senior manager), and the attainment of the research computing service
is computed from the service levels. "Grow digital revenue" is measured by the satisfaction of
Marketing and Finance (computed), "Cut the cost of operations" by the cost of the service desk
(computed). SkyBridge Airlines' desired outcome (no booking-platform outage in the summer peak)
has its own readings, shown in its service review pack.
"""

from __future__ import annotations

from decimal import Decimal as D

from servicebook.agreements.models import Outcome
from servicebook.parties.models import Objective
from servicebook.strategy import services

MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
#: share of the Lab's confidential research projects hosted on group premises, month by month
HOSTED_INSIDE = ["61", "64", "66", "71", "74", "78"]


def load(ctx) -> None:
    senior = ctx.users["senior"]
    research = Objective.objects.get(title__startswith="Protect the group's research")
    inside = services.create_measure(
        actor=senior,
        objective=research,
        indicator="Confidential research projects hosted inside the group",
        unit="%",
        target=D("95"),
        direction="higher",
        frequency="monthly",
        source="entered",
    )
    for month, value in zip(MONTHS, HOSTED_INSIDE, strict=True):
        services.record_reading(
            actor=senior,
            measure=inside,
            period=month,
            value=D(value),
            note="From the Lab's project register" if month == MONTHS[-1] else "",
        )
    services.create_measure(
        actor=senior,
        objective=research,
        indicator="Service levels met for the Lab",
        unit="%",
        target=D("99"),
        frequency="monthly",
        source="attainment",
    )
    growth = Objective.objects.get(title__startswith="Grow digital revenue")
    services.create_measure(
        actor=senior,
        objective=growth,
        indicator="Satisfaction of the business units driving revenue",
        unit="score (1-5)",
        target=D("4"),
        frequency="monthly",
        source="satisfaction",
    )
    cost = Objective.objects.get(title__startswith="Cut the cost of operations")
    services.create_measure(
        actor=senior,
        objective=cost,
        indicator="Cost of the service desk",
        unit="EUR a quarter",
        target=D("90000"),
        direction="lower",
        frequency="quarterly",
        source="cost",
    )
    for month in MONTHS:
        services.compute_readings(actor=None, month=month)
    _outcome(ctx)


def _outcome(ctx) -> None:
    """SkyBridge Airlines' summer-peak outcome, read monthly (minutes of outage)."""
    outcome = Outcome.objects.get(description__startswith="No booking-platform outage")
    outage = services.create_measure(
        actor=ctx.users["manager"],
        outcome=outcome,
        indicator="Minutes of booking-platform outage",
        unit="minutes",
        target=D("0"),
        direction="lower",
        frequency="monthly",
        source="imported",
    )
    rows = ["measure,period,value,note"]
    rows += [
        f"{outage.pk},{month},{minutes},airline monitoring export"
        for month, minutes in (("2026-06", "0"), ("2026-07", "12"), ("2026-08", "0"))
    ]
    services.import_readings(actor=ctx.users["manager"], text="\n".join(rows))
