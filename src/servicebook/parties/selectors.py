"""Reads about customers that need more than a one-line query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q

from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.parties.models import Commitment, CommitmentBreach, Customer
from servicebook.policy import POLICIES


@dataclass(frozen=True)
class FundingRow:
    """An internal customer's monthly consumption at cost against its funding (R4, R19)."""

    customer: Customer
    currency: str
    consumption: Decimal
    funding: Decimal | None
    over_by: Decimal | None
    commitment: Commitment | None = None  # the funding commitment in force, if any

    @property
    def over(self) -> bool:
        return self.over_by is not None and self.over_by > 0


def funding_report(
    user, *, on: dt.date | None = None, all_customers: bool = False
) -> list[FundingRow]:
    """Internal customers (visible to ``user``, or all for system checks) with their
    consumption at cost (active agreements, per month) against the funding commitment in force
    (else their budget)."""
    on = on or dt.date.today()
    kinds = [kind for kind, policy in POLICIES.items() if policy.has_commitments]
    lines = AgreementLine.objects.select_related("offering", "agreement__customer__provider")
    agreements = Agreement.objects.filter(status=AgreementStatus.ACTIVE).prefetch_related(
        Prefetch("lines", queryset=lines)
    )
    funding = Commitment.objects.filter(kind=Commitment.Kind.FUNDING, starts__lte=on).filter(
        Q(ends__isnull=True) | Q(ends__gte=on)
    )
    customers = (
        (Customer.objects.all() if all_customers else Customer.objects.visible_to(user))
        .filter(kind__in=kinds)
        .select_related("provider")
        .prefetch_related(
            Prefetch("agreements", queryset=agreements, to_attr="active_agreements"),
            Prefetch("commitments", queryset=funding, to_attr="funding_in_force"),
        )
    )
    rows = []
    for customer in customers:
        consumption = sum(
            (a.monthly_charge() or Decimal(0) for a in customer.active_agreements), Decimal(0)
        )
        commitment = max(customer.funding_in_force, key=lambda c: c.starts, default=None)
        amount = commitment.amount_per_period if commitment else customer.budget_per_period
        over_by = None if amount is None else consumption - amount
        rows.append(
            FundingRow(
                customer, customer.billing_currency, consumption, amount, over_by, commitment
            )
        )
    return sorted(rows, key=lambda row: (not row.over, row.customer.name))


def breach_counts(customers, *, since: dt.date | None = None) -> dict[int, int]:
    """Open (unresolved) commitment breaches per customer, those since ``since`` if given (R19)."""
    breaches = CommitmentBreach.objects.filter(
        commitment__customer__in=customers, resolved_at__isnull=True
    )
    if since is not None:
        breaches = breaches.filter(occurred_on__gte=since)
    counts: dict[int, int] = {}
    for customer_id in breaches.values_list("commitment__customer", flat=True):
        counts[customer_id] = counts.get(customer_id, 0) + 1
    return counts
