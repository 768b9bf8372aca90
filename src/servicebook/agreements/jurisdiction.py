"""Data locations against local law (R20), re-checked on every change.

A customer's jurisdiction, a jurisdiction's rule and a service's data locations are changed in
the parties and catalog apps, which sit below agreements: they ask this module through the
``servicebook.ports.jurisdiction_law`` port (plugged in by ``AgreementsConfig.ready()``): take a
:func:`snapshot` of the agreements concerned before the change, then :func:`recheck` them.
"""

from __future__ import annotations

from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementEvent
from servicebook.agreements.selectors import jurisdiction_conflicts
from servicebook.core.models import User

ENDED_AGREEMENT_STATUSES = ("expired", "terminated")


def agreements_of(customer) -> list:
    """The customer's agreements that are not over (drafts, in negotiation, active)."""
    return list(
        customer.agreements.exclude(status__in=ENDED_AGREEMENT_STATUSES).select_related(
            "customer__provider"
        )
    )


def agreements_in(jurisdiction: str) -> list:
    """The agreements not yet over of the customers under ``jurisdiction``."""
    return list(
        Agreement.objects.filter(customer__jurisdiction=jurisdiction)
        .exclude(status__in=ENDED_AGREEMENT_STATUSES)
        .select_related("customer__provider")
    )


def snapshot(agreements) -> dict[int, dict[int, tuple[frozenset, bool]]]:
    """Per agreement and service: the locations outside the rule, and whether no rule exists."""
    return {
        agreement.pk: {
            c.service_id: (frozenset(c.outside), c.no_rule)
            for c in jurisdiction_conflicts(agreement)
        }
        for agreement in agreements
    }


def recheck(*, actor: User | None, agreements, before: dict, cause: str) -> int:
    """After a change of data locations, jurisdiction or rule: flag every agreement that has a
    new or wider conflict (an event on the agreement, naming the cause), and drop the
    acknowledgements that no longer cover it, so the customer acknowledges afresh. Returns the
    number of conflicts flagged."""
    flagged = 0
    for agreement in agreements:
        old = before.get(agreement.pk, {})
        for conflict in jurisdiction_conflicts(agreement):
            no_rule = conflict.no_rule
            previous = old.get(conflict.service_id)
            told = previous is not None and set(conflict.outside) <= previous[0]
            if told and (previous[1] or not no_rule):
                continue  # nothing the customer has not been told already
            stale = list(
                agreement.acknowledgements.filter(service_id=conflict.service_id).select_related(
                    "contact"
                )
            )
            what = (
                f"no rule for this jurisdiction ({conflict.jurisdiction})"
                if no_rule
                else f"outside what {conflict.jurisdiction} allows"
            )
            where = ", ".join(conflict.outside)
            note = f"{cause}: {conflict.service_name} stores data in {where}, {what}."
            for ack in stale:
                note += (
                    f" The acknowledgement by {ack.contact.name} of "
                    f"{timezone.localdate(ack.recorded_at)} no longer covers it."
                )
                ack.delete()
            AgreementEvent.objects.create(
                agreement=agreement,
                actor=actor,
                action="jurisdiction_conflict",
                to_state="acknowledgement_needed",
                note=note,
            )
            flagged += 1
    return flagged


def agreements_using(service) -> list:
    """The agreements not yet over with a line for one of the service's offerings."""
    return list(
        Agreement.objects.filter(lines__offering__service=service)
        .exclude(status__in=ENDED_AGREEMENT_STATUSES)
        .select_related("customer__provider")
        .distinct()
    )
