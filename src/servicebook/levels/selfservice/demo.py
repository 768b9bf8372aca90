"""Demo portal tickets (issue 15): SkyBridge reports a slow booking site and the service desk
asks it for details; Marketing asks for a shared mailbox."""

from __future__ import annotations

from servicebook.levels.selfservice import services


def load(ctx) -> None:
    users = ctx.users
    if "external-requester" in users:
        ticket = services.raise_ticket(
            actor=users["external-requester"],
            agreement=ctx.agreements["airline"],
            kind="incident",
            short_description="Booking site slow for customers in the US",
            description="Pages take 10-15 s to load since this morning.",
            impact=2,
            urgency=1,
        )
        services.move_ticket(
            actor=users["manager"],
            ticket=ticket,
            to_state=services.AWAITING_CUSTOMER,
            note="waiting for a trace",
        )
        services.comment_on_ticket(
            actor=users["manager"], ticket=ticket, text="Could you send us a browser trace?"
        )
    if "internal" in users:
        services.raise_ticket(
            actor=users["internal"],
            agreement=ctx.agreements["marketing"],
            kind="request",
            short_description="Shared mailbox for the spring campaign",
            impact=3,
            urgency=3,
        )
