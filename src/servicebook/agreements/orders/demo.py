"""Demo orders (issue 15): SkyBridge's buyer orders consultant hours above her authority
limit (waiting for Marc Lefèvre, its approver); Marketing's coordinator orders two Microsoft 365
seats within his limit (approved at once, on the agreement from next period)."""

from __future__ import annotations

from decimal import Decimal as D

from servicebook.agreements.orders import services


def load(ctx) -> None:
    users, offerings = ctx.users, ctx.offerings
    if "external-requester" in users:
        services.submit_order(
            actor=users["external-requester"],
            agreement=ctx.agreements["airline"],
            offering=offerings["consulting"],
            quantity=D(40),
            note="Forty more consultant hours a month for the loyalty app.",
        )
    if "internal-requester" in users:
        services.submit_order(
            actor=users["internal-requester"],
            agreement=ctx.agreements["marketing"],
            offering=offerings["m365"],
            quantity=D(2),
            note="Two interns from January.",
        )
