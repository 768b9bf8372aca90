"""What a customer charged at cost will pay for one unit (R5), for agreements' order pages.

Agreements may not import finance; they ask ``servicebook.ports.charged_unit_cost``, which
``FinanceConfig.ready()`` plugs this function into. The rate is the one the period close would
charge: the period's unit cost (``costs compute``), else the offering's standard unit cost, under
the enterprise policy's internal margin, and only in the customer's billing currency (R6: never
across currencies without an exchange rate).
"""

from __future__ import annotations

from decimal import Decimal

from servicebook.finance.costing.models import UnitCost
from servicebook.policy import policy_for


def charged_unit_cost(offering, customer, period: str) -> Decimal | None:
    """The rate per unit ``customer`` is charged at cost in ``period``; None when unknown or when
    the customer is not charged at cost."""
    policy = policy_for(customer)
    if not policy.charged_at_cost:
        return None
    row = (
        UnitCost.objects.filter(offering=offering, period=period)
        .values_list("unit_cost", "currency")
        .first()
    )
    cost, currency = row if row is not None else (offering.standard_unit_cost, offering.currency)
    if cost is None or currency != policy.billing_currency(customer):
        return None
    return policy.charge_rate(
        unit_cost=cost, unit_price=offering.list_price, provider=customer.provider
    )
