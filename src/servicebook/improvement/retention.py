"""Retention of external business (R14, R23, decision 0023): how many contracts that came up for
renewal were renewed, the customers lost, the monthly revenue kept, and the customers whose
contract comes up within 90 days while the relationship shows concerns. Staff only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementEvent, AgreementLine
from servicebook.agreements.selectors import in_force_between
from servicebook.parties.models import Customer
from servicebook.policy import POLICIES

#: How far back the renewal rate and churn look, and how far ahead "up for renewal" looks.
WINDOW_DAYS = 365
RENEWAL_HORIZON_DAYS = 90


@dataclass
class UpForRenewal:
    """A customer whose contract ends within the horizon, and the signals of its health."""

    customer: Customer
    agreement: Agreement
    ends: dt.date
    rating: str
    concerns: list[str]
    breaches: int
    complaints: int

    @property
    def at_risk(self) -> bool:
        return self.rating != "good"


@dataclass
class Retention:
    since: dt.date
    today: dt.date
    came_up: int = 0
    renewed: int = 0
    customers_at_start: int = 0
    customers_lost: list[str] = field(default_factory=list)
    revenue_up: dict[str, Decimal] = field(default_factory=dict)  # monthly, by currency
    revenue_kept: dict[str, Decimal] = field(default_factory=dict)
    up_for_renewal: list[UpForRenewal] = field(default_factory=list)

    @property
    def renewal_rate(self) -> Decimal | None:
        return _percent(self.renewed, self.came_up)

    @property
    def churn_rate(self) -> Decimal | None:
        return _percent(len(self.customers_lost), self.customers_at_start)

    @property
    def revenue_kept_percent(self) -> dict[str, Decimal | None]:
        return {
            currency: _percent(self.revenue_kept.get(currency, Decimal(0)), up)
            for currency, up in sorted(self.revenue_up.items())
        }

    @property
    def at_risk(self) -> list[UpForRenewal]:
        return [row for row in self.up_for_renewal if row.at_risk]


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _external_kinds() -> list[str]:
    return [kind for kind, policy in POLICIES.items() if policy.counts_in_retention]


def _with_lines(queryset):
    lines = AgreementLine.objects.select_related("offering").prefetch_related("offering__tiers")
    return queryset.select_related("customer").prefetch_related(Prefetch("lines", queryset=lines))


def retention(*, today: dt.date | None = None) -> Retention:
    """The figures over the last ``WINDOW_DAYS``; the renewals due in ``RENEWAL_HORIZON_DAYS``."""
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=WINDOW_DAYS)
    kinds = _external_kinds()
    result = Retention(since=since, today=today)
    _renewals(result, kinds)
    at_start = set(
        in_force_between(since, since)
        .filter(customer__kind__in=kinds)
        .values_list("customer__name", flat=True)
    )
    now = set(
        in_force_between(today, today)
        .filter(customer__kind__in=kinds)
        .values_list("customer__name", flat=True)
    )
    result.customers_at_start = len(at_start)
    result.customers_lost = sorted(at_start - now)
    result.up_for_renewal = _up_for_renewal(today, kinds)
    return result


def _renewals(result: Retention, kinds: list[str]) -> None:
    """Versions whose term ended in the window, unless superseded by an amendment (not a
    renewal): renewed when their next version is a renewal that came into force."""
    ended = _with_lines(
        Agreement.objects.filter(
            customer__kind__in=kinds,
            status__in=("expired", "terminated"),
            end_date__gte=result.since,
            end_date__lt=result.today,
        )
    )
    renewal_ids = set(
        AgreementEvent.objects.filter(action="renewal").values_list("agreement_id", flat=True)
    )
    successors = {
        a.previous_id: a
        for a in Agreement.objects.filter(previous__in=ended).only("pk", "previous_id", "status")
    }
    up: dict[str, Decimal] = defaultdict(Decimal)
    kept: dict[str, Decimal] = defaultdict(Decimal)
    for agreement in ended:
        successor = successors.get(agreement.pk)
        if successor is not None and successor.pk not in renewal_ids:
            continue  # amended (a price change, a new version): not a term coming up
        result.came_up += 1
        monthly = agreement.monthly_price()
        up[agreement.currency] += monthly
        if successor is not None and successor.status in ("active", "expired", "terminated"):
            result.renewed += 1
            kept[agreement.currency] += monthly
    result.revenue_up, result.revenue_kept = dict(up), dict(kept)


def _up_for_renewal(today: dt.date, kinds: list[str]) -> list[UpForRenewal]:
    from servicebook.improvement.selectors import health_of

    horizon = today + dt.timedelta(days=RENEWAL_HORIZON_DAYS)
    ending = list(
        Agreement.objects.filter(
            customer__kind__in=kinds,
            status="active",
            end_date__gte=today,
            end_date__lte=horizon,
        )
        .select_related("customer")
        .order_by("end_date", "reference")
    )
    if not ending:
        return []
    ids = {agreement.customer_id for agreement in ending}
    health = {h.customer.pk: h for h in health_of(Customer.objects.filter(pk__in=ids), today=today)}
    rows = []
    for agreement in ending:
        h = health[agreement.customer_id]
        rows.append(
            UpForRenewal(
                customer=agreement.customer,
                agreement=agreement,
                ends=agreement.end_date,
                rating=h.rating,
                concerns=h.concerns,
                breaches=h.open_breaches,
                complaints=h.open_complaints,
            )
        )
    return rows
