"""The relationship owner of a customer: the provider user who owns and manages the business
relationship with it (ITIL's business relationship manager; issue 18).

Only provider staff can own a relationship: never a customer's user, nor a disabled account.
Customer users may see their own customer's owner (name and e-mail) as their contact person.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from servicebook.core.models import User
from servicebook.core.roles import PROVIDER_ROLES, Role, is_provider_staff
from servicebook.core.services import require_role, save_validated
from servicebook.parties.models import Customer, CustomerEvent

OWNER_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


def person_name(user: User) -> str:
    """A user's display name: full name, else user name (as ``core.audience`` shows people)."""
    return (user.get_full_name() or "").strip() or user.get_username()


def owner_candidates() -> QuerySet[User]:
    """The users who may own a relationship: active provider staff (no customer, a provider
    role or the superuser flag), by name."""
    return (
        User.objects.filter(customer__isnull=True, is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[str(r) for r in PROVIDER_ROLES]))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def owner_label(user: User | None) -> str:
    return person_name(user) if user is not None else "—"


def check_owner(owner: User | None) -> None:
    """Refuse an owner who is not active provider staff, naming why."""
    if owner is None:
        return
    if owner.customer_id is not None:
        raise ValidationError(
            {
                "relationship_owner": f"{person_name(owner)} is a user of a customer: only "
                "provider staff can own a relationship"
            }
        )
    if not owner.is_active:
        raise ValidationError({"relationship_owner": f"{person_name(owner)}'s account is disabled"})
    if not is_provider_staff(owner):
        raise ValidationError(
            {
                "relationship_owner": f"{person_name(owner)} holds no provider role: only "
                "provider staff can own a relationship"
            }
        )


def record_owner_change(*, actor: User | None, customer: Customer, old: User | None) -> None:
    """The customer's history line for a new owner (who, when, from whom to whom)."""
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="updated",
        note=f"Relationship owner: {owner_label(old)} → {owner_label(customer.relationship_owner)}",
    )


@transaction.atomic
def set_relationship_owner(
    *, actor: User | None, customer: Customer, owner: User | None
) -> Customer:
    """Give the customer a relationship owner (or none), recorded in its history."""
    require_role(actor, *OWNER_EDITORS, action="Changing a relationship owner")
    check_owner(owner)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    old = customer.relationship_owner
    if (old.pk if old else None) == (owner.pk if owner else None):
        return customer
    customer.relationship_owner = owner
    save_validated(customer)
    record_owner_change(actor=actor, customer=customer, old=old)
    return customer


def owned_by(queryset, user: User) -> QuerySet:
    """The customers of ``queryset`` whose relationship ``user`` owns ("My customers")."""
    return queryset.filter(relationship_owner=user)
