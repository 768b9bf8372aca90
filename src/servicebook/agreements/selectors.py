"""Reads about agreements that need more than a one-line query: what stands between an
agreement and activation, and where its data locations conflict with local law."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from servicebook import ports
from servicebook.agreements.models import Agreement
from servicebook.parties.models import CustomerStatus, JurisdictionRule


@dataclass(frozen=True)
class JurisdictionConflict:
    """A service on the agreement stores data where the customer's jurisdiction does not allow."""

    service_id: int
    service_name: str
    jurisdiction: str
    allowed: tuple[str, ...]
    outside: tuple[str, ...]
    acknowledged: bool
    no_rule: bool = False  # the jurisdiction has no rule: every location is to acknowledge


def jurisdiction_conflicts(agreement: Agreement) -> list[JurisdictionConflict]:
    """R20: one conflict per service whose data locations fall outside the rule's allowed ones."""
    customer = agreement.customer
    if not customer.policy.checks_jurisdiction or not customer.jurisdiction:
        return []
    rule = JurisdictionRule.objects.filter(jurisdiction=customer.jurisdiction).first()
    allowed = set(rule.allowed_locations) if rule is not None else set()
    acknowledged = set(agreement.acknowledgements.values_list("service_id", flat=True))
    services = {line.offering.service for line in agreement.lines.all()}
    conflicts = []
    for service in sorted(services, key=lambda s: s.name):
        outside = tuple(code for code in service.data_locations if code not in allowed)
        if outside:
            conflicts.append(
                JurisdictionConflict(
                    service.pk,
                    service.name,
                    customer.jurisdiction,
                    tuple(sorted(allowed)),
                    outside,
                    service.pk in acknowledged,
                    rule is None,
                )
            )
    return conflicts


def valid_signature(agreement: Agreement):
    """The signature of an approver whose authority covers the current yearly value, if any."""
    value = agreement.yearly_value()
    for signature in agreement.signatures.select_related("contact"):
        contact = signature.contact
        limit = contact.authority_limit or Decimal(0)
        if contact.active and contact.is_approver and limit >= value:
            return signature
    return None


def activation_blockers(agreement: Agreement, *, signature_required: bool = True) -> list[str]:
    """Everything that must be true before the agreement can become active, not yet true.

    ``signature_required=False`` for an amendment the signed contract itself provides for (a
    price impact the customer's approver accepted under its change clause, R11).

    Messages may name cost (the price floor of R6): show them to provider staff only.
    """
    from servicebook.parties.services import due_diligence_problem

    blockers = []
    customer = agreement.customer
    if customer.status != CustomerStatus.ACTIVE:
        blockers.append(f"the customer is {customer.get_status_display().lower()}, not active")
    if not agreement.lines.exists():
        blockers.append("the agreement has no lines")
    due_diligence_blocker = due_diligence_problem(customer)  # R17: missing, failed, expired
    if due_diligence_blocker:
        blockers.append(due_diligence_blocker)
    if signature_required and valid_signature(agreement) is None:
        blockers.append(
            f"not signed by an approver with authority for the yearly value "
            f"{agreement.currency} {agreement.yearly_value()}"
        )
    blockers += agreement.consideration_errors()
    blockers += ports.price_floor(agreement)  # R6, answered by finance (servicebook.ports)
    for conflict in jurisdiction_conflicts(agreement):
        if not conflict.acknowledged and conflict.no_rule:
            blockers.append(
                f"{conflict.service_name} stores data in {', '.join(conflict.outside)} and there "
                f"is no rule for this jurisdiction ({conflict.jurisdiction}): the customer's "
                "acknowledgement is needed"
            )
        elif not conflict.acknowledged:
            blockers.append(
                f"{conflict.service_name} stores data in {', '.join(conflict.outside)}, outside "
                f"what {conflict.jurisdiction} allows: the customer's acknowledgement is needed "
                "(R20)"
            )
    return blockers


def orders_awaiting_approval(user):
    """Orders ``user`` may approve now, oldest first (the inbox; see
    :func:`servicebook.agreements.orders.selectors.orders_awaiting_approval`)."""
    from servicebook.agreements.orders.selectors import orders_awaiting_approval as awaiting

    return awaiting(user)


#: The statuses of versions that were in force: an ended one was in force until its end date.
WERE_IN_FORCE = ("active", "expired", "terminated")


def in_force_between(first, last):
    """Agreement versions in force some day between ``first`` and ``last`` (dates): active ones,
    and ended ones (expired, terminated) until their end date (decision 0023: an agreement is
    charged for the months it was in force, even when it has ended by the time the month is
    closed, and never after its end). An ended version without an end date (superseded before
    end dates were kept) is left out, as before."""
    from django.db.models import Q

    return Agreement.objects.filter(status__in=WERE_IN_FORCE, start_date__lte=last).filter(
        Q(end_date__gte=first) | Q(end_date__isnull=True, status="active")
    )


def without_superseded(agreements: list) -> list:
    """Drop each version whose next version is also in the list (in force the same month): the
    month is charged once, at the newer version's terms."""
    superseded = {a.previous_id for a in agreements if a.previous_id is not None}
    return [a for a in agreements if a.pk not in superseded]
