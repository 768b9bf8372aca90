"""Consumption at cost: ONE answer for a customer and a month, used by every page and report.

Marketing's consumption at cost used to read 4,792 on one page (its agreements at standard cost)
and 5,444.44 on another (the closed statement: actual unit costs, metered usage and cloud cost).
Every page and report that shows "consumption at cost" (the funding report, relationship health,
the demand competition page, the finance reports, the review packs) now asks this module:

- **closed period**: the closed statement's total cost (what the close charged at cost: the
  period's actual unit costs, metered usage and cloud cost). A customer without a statement that
  month consumed nothing.
- **open period**: an estimate of what the close would charge at cost from what is known so far:
  the active agreements' lines at the period's unit cost (computed by ``costs compute``, else the
  offering's standard unit cost), plus the cloud cost already allocated to the customer for that
  month. Metered usage is rated at the close and only counts then.

A cost in another currency than the customer's statement is never added 1:1 (R6): that part is
left out and named in ``unknown`` (both currencies), so the figure is never silently wrong.

Parties reads this through ``servicebook.ports.consumption_at_cost`` (finance builds on parties,
so parties may not import finance); ``FinanceConfig.ready()`` plugs it in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from servicebook.core.money import round_money
from servicebook.core.periods import period_dates, period_of
from servicebook.finance.billing.models import Statement
from servicebook.finance.costing.models import UnitCost
from servicebook.finance.ledger.models import Period, PeriodStatus
from servicebook.finance.ledger.periods import check_period
from servicebook.finance.usage.models import CloudCharge
from servicebook.policy import policy_for

#: How every page, report, CSV and API names the figure.
LABEL = "Consumption at cost"
ZERO = Decimal(0)


@dataclass(frozen=True)
class Consumption:
    """A customer's consumption at cost for one month, and where the figure comes from."""

    customer_id: int
    period: str
    currency: str
    amount: Decimal
    closed: bool  # True: the closed statement's figure; False: an estimate (period open)
    basis: str  # in words, for the page and the API
    unknown: tuple[str, ...] = field(default=())  # parts left out, and why (R6)

    label = LABEL

    @property
    def complete(self) -> bool:
        return not self.unknown

    def as_dict(self) -> dict:
        """The same fields in every API and CSV."""
        return {
            "label": LABEL,
            "period": self.period,
            "currency": self.currency,
            "amount": self.amount,
            "closed": self.closed,
            "basis": self.basis,
            "unknown": list(self.unknown),
        }


def current_period(today: dt.date | None = None) -> str:
    """The period of ``today`` (by default the local date of the installation's time zone)."""
    return period_of(today or timezone.localdate())


def is_closed(period: str) -> bool:
    return Period.objects.filter(period=period, status=PeriodStatus.CLOSED).exists()


def consumption_at_cost(customers: Iterable, period: str, *, scope=None) -> dict[int, Consumption]:
    """Each customer's consumption at cost for ``period`` (``YYYY-MM``), keyed by customer id.

    ``customers`` are Customer objects or ``parties.rows.CustomerRow`` values (already scoped by
    the caller). A period outside the
    business calendar (years 1900-2999, e.g. the month of a date typed as year 79) is refused
    with a DomainError (field ``period``).

    ``scope``: the same customers as a queryset of their ids, to select by as a subquery (a
    list of 5,000 ids costs more to send than the query takes, issue 14)."""
    check_period(period)
    customers = list(customers)
    if not customers:
        return {}
    ids = scope if scope is not None else [customer.pk for customer in customers]
    if is_closed(period):
        return _from_statements(customers, ids, period)
    return _estimate(customers, ids, period)


def consumption_for(customer, period: str) -> Consumption:
    return consumption_at_cost([customer], period)[customer.pk]


def _currency_of(customer) -> str:
    return policy_for(customer).billing_currency(customer)


def _from_statements(customers, ids, period: str) -> dict[int, Consumption]:
    # plain values, not a Statement (with its legal fields) per customer: the close runs this
    # over every internal customer (funding-breach detection, issue 14)
    found: dict[int, list[tuple[str, str, Decimal]]] = defaultdict(list)
    for customer_id, number, currency, total_cost in (
        Statement.objects.filter(customer__in=ids, period=period)
        .order_by("number")
        .values_list("customer_id", "number", "currency", "total_cost")
    ):
        found[customer_id].append((number, currency, total_cost))
    result = {}
    for customer in customers:
        statements = found.get(customer.pk, [])
        currency = statements[0][1] if statements else _currency_of(customer)
        amount, unknown = ZERO, []
        for number, statement_currency, total_cost in statements:
            if statement_currency != currency:
                unknown.append(
                    f"statement {number} is in {statement_currency}, not {currency}: "
                    "not added without an exchange rate"
                )
                continue
            amount += total_cost
        if statements:
            numbers = ", ".join(number for number, _, _ in statements)
            basis = (
                f"closed statement {numbers}: the period's actual unit costs, metered usage "
                "and cloud cost"
            )
        else:
            basis = "period closed: no statement for this customer"
        result[customer.pk] = Consumption(
            customer.pk, period, currency, amount, True, basis, tuple(unknown)
        )
    return result


def _estimate(customers, ids, period: str) -> dict[int, Consumption]:
    from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
    from servicebook.catalog.models import Offering

    first, last = period_dates(period)
    agreements = Agreement.objects.filter(
        customer__in=ids, status=AgreementStatus.ACTIVE, start_date__lte=last
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
    # plain values, not a model per line (issue 14: 10,000 customers' lines on one page)
    lines = (
        AgreementLine.objects.filter(agreement__in=agreements.values("pk"))
        .order_by("agreement_id", "pk")
        .values_list("agreement__customer_id", "offering_id", "quantity")
    )
    lines = list(lines)
    offerings = {
        o.pk: o
        for o in Offering.objects.filter(pk__in={offering for _c, offering, _q in lines}).only(
            "pk", "name", "standard_unit_cost", "currency"
        )
    }
    unit_costs = {
        offering_id: (cost, currency)
        for offering_id, cost, currency in UnitCost.objects.filter(period=period).values_list(
            "offering_id", "unit_cost", "currency"
        )
    }
    computed = bool(unit_costs)
    currencies = {customer.pk: _currency_of(customer) for customer in customers}
    amounts: dict[int, Decimal] = defaultdict(lambda: ZERO)
    unknown: dict[int, list[str]] = defaultdict(list)
    for customer_id, offering_id, quantity in lines:
        currency = currencies[customer_id]
        offering = offerings[offering_id]
        cost, cost_currency = unit_costs.get(
            offering.pk, (offering.standard_unit_cost, offering.currency)
        )
        if cost is None:
            unknown[customer_id].append(f"{offering.name}: no unit cost")
            continue
        if cost_currency != currency:
            unknown[customer_id].append(
                f"{offering.name}: its cost is in {cost_currency}, the statement in {currency}: "
                "not added without an exchange rate"
            )
            continue
        amounts[customer_id] += round_money(quantity * cost, currency)
    cloud = CloudCharge.objects.filter(customer__in=ids, period=period).values_list(
        "customer_id", "currency", "amount"
    )
    with_cloud = set()
    for customer_id, currency, amount in cloud:
        if currency != currencies[customer_id]:
            unknown[customer_id].append(
                f"cloud cost is in {currency}, the statement in {currencies[customer_id]}: "
                "not added without an exchange rate"
            )
            continue
        amounts[customer_id] += amount
        with_cloud.add(customer_id)
    costs = "the period's computed unit costs" if computed else "standard unit cost"
    result = {}
    for customer in customers:
        cloud_part = " and the cloud cost allocated so far" if customer.pk in with_cloud else ""
        basis = (
            f"estimate, period open: active agreements at {costs}{cloud_part}; metered usage "
            "counts at the close"
        )
        result[customer.pk] = Consumption(
            customer.pk,
            period,
            currencies[customer.pk],
            amounts[customer.pk],
            False,
            basis,
            tuple(unknown[customer.pk]),
        )
    return result
