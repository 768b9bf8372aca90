"""Reads of customer orders: the catalog a user may order from, an order's quote, the budget
left, and the orders waiting for an approver (issue 15, decision 0017).

What a customer is charged is its policy's answer (``charged_at_cost``): the cost of service
through ``servicebook.ports.charged_unit_cost`` (finance), or the agreement's price. A quote
at cost is shown to users who may see cost only (R7): external users are charged the price and
never see a cost, here or in an error message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from servicebook import ports
from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.agreements.orders.models import Order, OrderBasis, OrderStatus
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.core.money import RATE_PLACES, round_money
from servicebook.core.periods import next_period, period_dates, period_of
from servicebook.core.tenancy import customer_of
from servicebook.policy import policy_for

MONTHS_A_YEAR = 12
RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)  # the places an order's rate is stored with


def effective_period(today: dt.date) -> str:
    """The period an order decided ``today`` takes effect in: the next one."""
    return next_period(period_of(today))


def effective_from(today: dt.date) -> dt.date:
    return period_dates(effective_period(today))[0]


def orderable_offerings(user):
    """The offerings the user's customer may order: its policy's catalog (``visible_to``)."""
    return (
        Offering.objects.visible_to(user)
        .filter(active=True, service__status="live")
        .select_related("service")
        .order_by("service__name", "name")
    )


def orderable_agreements(user):
    return (
        Agreement.objects.visible_to(user)
        .filter(status=AgreementStatus.ACTIVE)
        .select_related("customer")
        .order_by("reference")
    )


@dataclass(frozen=True)
class Quote:
    """What ordering ``quantity`` more of an offering on an agreement costs the customer a
    month, on its policy's basis, and (for a customer with a budget) what is left of it."""

    basis: str
    unit_rate: Decimal
    unit_price: Decimal
    monthly: Decimal
    yearly: Decimal
    currency: str
    period: str
    budget: Decimal | None = None
    budget_left: Decimal | None = None

    @property
    def budget_left_after(self) -> Decimal | None:
        return None if self.budget_left is None else self.budget_left - self.monthly


def quote(*, agreement: Agreement, offering: Offering, quantity: Decimal, today: dt.date) -> Quote:
    """The order's amount a month (refusal: a clear DomainError naming the field)."""
    customer = agreement.customer
    policy = policy_for(customer)
    if offering.service.offered_to not in policy.catalog_audiences or not offering.active:
        raise DomainError(
            f"{offering} is not in the catalog offered to {customer.name}",
            code="not_offered",
            field="offering",
        )
    period = effective_period(today)
    current = agreement.lines.filter(offering=offering).first()
    unit_price = current.unit_price if current is not None else offering.list_price
    if policy.charged_at_cost:
        rate = ports.charged_unit_cost(offering, customer, period)
        if rate is None:
            raise DomainError(
                f"{offering} has no unit cost in {agreement.currency} to charge you at yet: "
                "ask your service manager",
                code="no_rate",
                field="offering",
            )
        rate = rate.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)  # the stored rate's places
        monthly = round_money(quantity * rate, agreement.currency)
        basis = OrderBasis.COST
    else:
        if offering.currency != agreement.currency:
            raise DomainError(
                f"{offering} is priced in {offering.currency}, the agreement in "
                f"{agreement.currency}",
                code="not_offered",
                field="offering",
            )
        before = current.quantity if current is not None else Decimal(0)
        monthly = _line_price(agreement, offering, before + quantity, unit_price) - _line_price(
            agreement, offering, before, unit_price
        )
        rate, basis = unit_price, OrderBasis.PRICE
    budget, left = budget_left(customer, period)
    return Quote(
        basis=basis,
        unit_rate=rate,
        unit_price=unit_price,
        monthly=monthly,
        yearly=monthly * MONTHS_A_YEAR,
        currency=agreement.currency,
        period=period,
        budget=budget,
        budget_left=left,
    )


def budget_left(customer, period: str) -> tuple[Decimal | None, Decimal | None]:
    """A customer with a budget: its budget for ``period`` and what is left of it after its
    consumption at cost (finance's one answer, ``ports.consumption_at_cost``) and the orders
    already approved but not yet on its agreements (each a month's amount); else (None, None)."""
    if customer.budget_per_period is None:
        return None, None
    used = ports.consumption_at_cost([customer], period)[customer.pk].amount
    committed = Order.objects.filter(
        agreement__customer=customer, status=OrderStatus.APPROVED
    ).aggregate(total=Sum("monthly_amount"))["total"] or Decimal(0)
    return customer.budget_per_period, customer.budget_per_period - used - committed


def _line_price(agreement, offering, quantity: Decimal, unit_price: Decimal) -> Decimal:
    if quantity <= 0:
        return Decimal(0)
    line = AgreementLine(
        agreement=agreement, offering=offering, quantity=quantity, unit_price=unit_price
    )
    return line.monthly_price()


def self_approved_yearly(contact, *, since: dt.date) -> Decimal:
    """What ``contact`` ordered and approved on their own authority since ``since`` (yearly
    amounts of orders still standing: approved or applied)."""
    total = Order.objects.filter(
        requester=contact,
        decided_by=contact,
        status__in=[OrderStatus.APPROVED, OrderStatus.APPLIED],
        created_at__date__gte=since,
    ).aggregate(total=Sum("yearly_amount"))["total"]
    return total or Decimal(0)


def approver_candidates(customer, yearly: Decimal):
    """The customer's contacts who may approve ``yearly`` a year and can sign in to do it."""
    return customer.contacts.filter(
        active=True, is_approver=True, authority_limit__gte=yearly, user__isnull=False
    ).order_by("name")


def orders_awaiting_approval(user):
    """Orders ``user`` may approve now, oldest first (the inbox, "My work"): those of its own
    customer awaiting approval where its contact is one of the recorded approvers."""
    customer = customer_of(user)
    if customer is None:
        return Order.objects.none()
    return (
        Order.objects.visible_to(user)
        .filter(
            status=OrderStatus.AWAITING_APPROVAL,
            approvers__user=user,
            approvers__active=True,
        )
        .select_related("agreement", "offering", "requester")
        .order_by("created_at", "pk")
        .distinct()
    )
