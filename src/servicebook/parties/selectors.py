"""Reads about customers that need more than a one-line query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from servicebook.core.periods import period_of
from servicebook.parties.models import Commitment, CommitmentBreach, Customer
from servicebook.parties.rows import CustomerRow
from servicebook.policy import POLICIES


@dataclass(frozen=True)
class FundingRow:
    """An internal customer's monthly consumption at cost against its funding.

    ``consumption`` is the finance app's one answer (``finance.consumption``): the closed
    statement's cost when the period is closed, else an estimate (``basis`` says which)."""

    customer: CustomerRow
    currency: str
    consumption: Decimal
    funding: Decimal | None
    over_by: Decimal | None
    commitment: Commitment | None = None  # the funding commitment in force, if any
    period: str = ""
    basis: str = ""
    closed: bool = False
    unknown: tuple[str, ...] = ()

    label = "Consumption at cost"

    @property
    def over(self) -> bool:
        return self.over_by is not None and self.over_by > 0


def funding_report(
    user,
    *,
    on: dt.date | None = None,
    all_customers: bool = False,
    period: str | None = None,
    customers=None,
    known=None,
) -> list[FundingRow]:
    """Internal customers (visible to ``user``, or all for system checks; among ``customers``, a
    queryset or subquery of ids, when given) with their consumption at cost for ``period``
    (default: the month of ``on``, today) against the funding commitment in force (else their
    budget). ``known``: the customers of ``customers`` already read by the caller (rows or
    instances), so that they are not read again."""
    from servicebook.parties.billing import consumption_at_cost

    on = on or dt.date.today()
    period = period or period_of(on)
    kinds = [kind for kind, policy in POLICIES.items() if policy.has_commitments]
    funding = Commitment.objects.filter(kind=Commitment.Kind.FUNDING, starts__lte=on).filter(
        Q(ends__isnull=True) | Q(ends__gte=on)
    )
    readable = Customer.objects.all() if all_customers else Customer.objects.visible_to(user)
    if customers is not None:
        readable = readable.filter(pk__in=customers)
    readable = readable.filter(kind__in=kinds)
    # plain values, not 5,000 customer instances (issue 14); the commitments in force, latest
    # start per customer
    if known is not None:
        customers = [customer for customer in known if customer.policy.has_commitments]
    else:
        customers = CustomerRow.rows(readable)
    scope = readable.values("pk")
    in_force = {
        commitment.customer_id: commitment
        for commitment in funding.filter(customer__in=scope).order_by("customer_id", "starts", "pk")
    }
    consumed = consumption_at_cost(customers, period, scope=scope)
    rows = []
    for customer in customers:
        found = consumed.get(customer.pk)
        consumption = found.amount if found else Decimal(0)
        commitment = in_force.get(customer.pk)
        amount = commitment.amount_per_period if commitment else customer.budget_per_period
        over_by = None if amount is None else consumption - amount
        rows.append(
            FundingRow(
                customer,
                found.currency if found else customer.billing_currency,
                consumption,
                amount,
                over_by,
                commitment,
                period=period,
                basis=found.basis if found else "no finance app: nothing to read",
                closed=found.closed if found else False,
                unknown=found.unknown if found else (),
            )
        )
    return sorted(rows, key=lambda row: (not row.over, row.customer.name))


def breach_counts(customers, *, since: dt.date | None = None) -> dict[int, int]:
    """Open (unresolved) commitment breaches per customer, those since ``since`` if given."""
    breaches = CommitmentBreach.objects.filter(
        commitment__customer__in=customers, resolved_at__isnull=True
    )
    if since is not None:
        breaches = breaches.filter(occurred_on__gte=since)
    counts: dict[int, int] = {}
    for customer_id in breaches.values_list("commitment__customer", flat=True):
        counts[customer_id] = counts.get(customer_id, 0) + 1
    return counts


def people_of(customer, *, approvers: bool = False, billing: bool = False):
    """The customer's users to tell about something: those whose contact is active and holds
    the role asked (approver, billing), or every active user of the customer when none is."""
    from servicebook.core.models import User

    users = User.objects.filter(customer=customer, is_active=True)
    if approvers or billing:
        users = users.filter(contact__active=True)
        if approvers:
            users = users.filter(contact__is_approver=True)
        if billing:
            users = users.filter(contact__is_billing=True)
    return users.order_by("pk")


#: What feedback's follow-ups are called on a page, by the reverse relation that holds them.
FOLLOW_UP_KINDS = (
    ("improvements", "improvement", "Improvement item", "improvement:detail"),
    ("design_revisions", "design_revision", "Design specification revision", "catalog:detail"),
)
#: ``Feedback.objects.prefetch_related(*FOLLOW_UP_PREFETCH)`` for lists.
FOLLOW_UP_PREFETCH = tuple(relation for relation, *_ in FOLLOW_UP_KINDS)


def feedback_follow_ups(feedback) -> list[dict]:
    """What became of a piece of feedback (R15): the improvement item or design revision it
    proposed (the apps above parties link themselves to it), with its status and page."""
    from django.urls import reverse

    rows = []
    for relation, kind, label, url_name in FOLLOW_UP_KINDS:
        for item in getattr(feedback, relation).all():
            target = item.service_id if kind == "design_revision" else item.pk
            rows.append(
                {
                    "kind": kind,
                    "label": label,
                    "id": item.pk,
                    "title": str(item),
                    "status": item.status,
                    "status_label": item.get_status_display(),
                    "link": reverse(url_name, args=[target]),
                }
            )
    return rows
