"""Who may see what: the one place object-level scoping is decided.

Every model a user can reach has a queryset with ``visible_to(user)``, built on
:class:`ScopedQuerySet`: provider staff see everything, a customer user sees only rows whose
``customer_path`` leads to their own customer, anybody else sees nothing.
"""

from __future__ import annotations

from django.db import models

from servicebook.core.roles import is_provider_staff


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows the path from its model to the owning customer.

    ``customer_path`` is a lookup (``"customer"``, ``"agreement__customer"``, ``"pk"`` for the
    customer itself). ``None`` marks provider-wide rows (the catalog), which ``visible_to``
    leaves to :meth:`scope_for_customer`.
    """

    customer_path: str | None = "customer"

    def visible_to(self, user):
        if is_provider_staff(user):
            return self
        customer = customer_of(user)
        if customer is None:
            return self.none()
        return self.scope_for_customer(customer)

    def scope_for_customer(self, customer):
        if self.customer_path is None:
            return self.none()
        return self.filter(**{self.customer_path: customer.pk})


def customer_of(user):
    """The customer a customer user belongs to, or None (provider staff, anonymous)."""
    if not getattr(user, "is_authenticated", False) or user.customer_id is None:
        return None
    return user.customer
