"""A customer as a long list reads it: a few plain values, not a model instance (ranking the
health or the funding of 10,000 customers must not load 10,000 of them, issue 14)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from servicebook.policy import HasPolicy, policy_for

#: The fields of a customer the rows read (see :class:`CustomerRow`), in its fields' order.
ROW_FIELDS = (
    "pk",
    "name",
    "code",
    "kind",
    "status",
    "in_difficulty",
    "difficulty_reason",
    "currency",
    "budget_per_period",
    "provider__base_currency",
)


@dataclass(slots=True)
class _Provider:
    base_currency: str


@dataclass(slots=True)
class CustomerRow(HasPolicy):
    """The few fields of a customer that the relationship health ranking and the funding report
    show and rate by, read as plain values; it answers ``policy`` and ``billing_currency`` as a
    :class:`~servicebook.parties.models.Customer` does."""

    pk: int
    name: str
    code: str
    kind: str
    status: str
    in_difficulty: bool
    difficulty_reason: str
    currency: str
    budget_per_period: Decimal | None
    provider: _Provider

    @classmethod
    def rows(cls, customers) -> list[CustomerRow]:
        """``customers`` (a queryset) as rows, in the queryset's order."""
        return [
            cls(*values[:-1], provider=_Provider(values[-1]))
            for values in customers.values_list(*ROW_FIELDS)
        ]

    def get_kind_display(self) -> str:
        return policy_for(self).label


#: The fields of a customer a period close reads (see :class:`BillingCustomerRow`), in order.
BILLING_FIELDS = (
    "pk",
    "name",
    "code",
    "kind",
    "currency",
    "cost_centre",
    "funding_model",
    "budget_per_period",
    "payment_terms_days",
    "legal_name",
    "registration_number",
    "jurisdiction",
    "address",
    "vat_number",
    "provider__base_currency",
)


@dataclass(slots=True)
class BillingCustomerRow(HasPolicy):
    """A customer as a period close reads it (100,000 of them a month, issue 14): what its
    documents carry (legal identity, terms, cost centre, funding) and what its policy needs,
    as plain values; it answers ``policy`` and ``billing_currency`` as a
    :class:`~servicebook.parties.models.Customer` does."""

    pk: int
    name: str
    code: str
    kind: str
    currency: str
    cost_centre: str
    funding_model: str
    budget_per_period: Decimal | None
    payment_terms_days: int | None
    legal_name: str
    registration_number: str
    jurisdiction: str
    address: str
    vat_number: str
    provider: _Provider
