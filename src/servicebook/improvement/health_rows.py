"""A customer as the relationship health ranking reads it: a few plain values, not a model
instance (ranking 10,000 customers must not load 10,000 of them)."""

from __future__ import annotations

from dataclasses import dataclass

from servicebook.policy import policy_for

#: The fields of a customer the health rows need (see :class:`CustomerRow`).
ROW_FIELDS = (
    "pk",
    "name",
    "code",
    "kind",
    "status",
    "in_difficulty",
    "difficulty_reason",
    "currency",
    "provider__base_currency",
)


@dataclass(slots=True)
class _Provider:
    base_currency: str


@dataclass(slots=True)
class CustomerRow:
    """The few fields of a customer a health row shows and rates by, read as plain values: the
    health of 10,000 customers is ranked without loading 10,000 model instances."""

    pk: int
    name: str
    code: str
    kind: str
    status: str
    in_difficulty: bool
    difficulty_reason: str
    currency: str
    provider: _Provider

    @classmethod
    def rows(cls, customers) -> list[CustomerRow]:
        return [
            cls(*values[:-1], provider=_Provider(values[-1]))
            for values in customers.values_list(*ROW_FIELDS)
        ]

    @property
    def policy(self):
        return policy_for(self)

    @property
    def billing_currency(self) -> str:
        return self.policy.billing_currency(self)

    def get_kind_display(self) -> str:
        return self.policy.label
