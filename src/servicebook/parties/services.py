"""Every write to customers and contacts: validated, permission-checked, audited."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import PROVIDER_ROLES, Role
from servicebook.core.services import apply_changes, describe_changes, require_role, save_validated
from servicebook.parties.models import (
    Contact,
    Customer,
    CustomerEvent,
    CustomerStatus,
    Provider,
)
from servicebook.policy import policy_for

CUSTOMER_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)

# Which lifecycle step may follow which (R16): nothing is ever deleted.
CUSTOMER_TRANSITIONS: dict[str, set[str]] = {
    CustomerStatus.PROSPECT: {CustomerStatus.DUE_DILIGENCE, CustomerStatus.TERMINATED},
    CustomerStatus.DUE_DILIGENCE: {CustomerStatus.ACTIVE, CustomerStatus.TERMINATED},
    CustomerStatus.ACTIVE: {CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED},
    CustomerStatus.SUSPENDED: {CustomerStatus.ACTIVE, CustomerStatus.TERMINATED},
    CustomerStatus.TERMINATED: set(),
}


@transaction.atomic
def create_customer(*, actor: User | None, provider: Provider, kind: str, **fields) -> Customer:
    require_role(actor, *CUSTOMER_EDITORS, action="Creating a customer")
    policy_for(kind)  # refuses an unknown kind with a clear message
    customer = Customer(provider=provider, kind=kind, **fields)
    if customer.status != CustomerStatus.PROSPECT and actor is not None:
        raise ValidationError({"status": "a new customer starts as a prospect"})
    save_validated(customer)
    CustomerEvent.objects.create(
        customer=customer, actor=actor, action="created", to_state=customer.status
    )
    return customer


@transaction.atomic
def update_customer(*, actor: User | None, customer: Customer, **changes) -> Customer:
    require_role(actor, *CUSTOMER_EDITORS, action="Changing a customer")
    for locked in ("kind", "provider", "status", "status_reason"):
        if locked in changes and changes[locked] != getattr(customer, locked):
            message = (
                "use the lifecycle steps to change the status"
                if locked.startswith("status")
                else "cannot be changed after creation"
            )
            raise ValidationError({locked: message})
        changes.pop(locked, None)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = apply_changes(customer, changes)
    if changed:
        save_validated(customer)
        CustomerEvent.objects.create(
            customer=customer, actor=actor, action="updated", note=describe_changes(changed)
        )
    return customer


@transaction.atomic
def change_customer_status(
    *, actor: User | None, customer: Customer, to_status: str, reason: str = "", note: str = ""
) -> Customer:
    """Move a customer along its lifecycle, recording who, when, from → to and why (R16)."""
    require_role(actor, *CUSTOMER_EDITORS, Role.FINANCE, action="Changing a customer's status")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    from_status = customer.status
    if to_status not in CustomerStatus.values:
        raise ValidationError({"to_status": f"unknown status {to_status!r}"})
    if to_status not in CUSTOMER_TRANSITIONS[from_status]:
        raise DomainError(
            f"the customer is {from_status} and cannot become {to_status}",
            code="invalid_transition",
            field="to_status",
        )
    customer.status = to_status
    customer.status_reason = (
        reason if to_status in (CustomerStatus.SUSPENDED, CustomerStatus.TERMINATED) else ""
    )
    save_validated(customer)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        action="status",
        from_state=from_status,
        to_state=to_status,
        reason=customer.status_reason,
        note=note,
    )
    return customer


@transaction.atomic
def create_contact(*, actor: User | None, customer: Customer, **fields) -> Contact:
    require_role(actor, *CUSTOMER_EDITORS, action="Adding a contact")
    contact = Contact(customer=customer, **fields)
    save_validated(contact)
    CustomerEvent.objects.create(
        customer=customer, actor=actor, action="contact_added", note=contact.name
    )
    return contact


@transaction.atomic
def update_contact(*, actor: User | None, contact: Contact, **changes) -> Contact:
    require_role(actor, *CUSTOMER_EDITORS, action="Changing a contact")
    if "customer" in changes and changes.pop("customer") != contact.customer:
        raise ValidationError({"customer": "a contact cannot move to another customer"})
    changed = apply_changes(contact, changes)
    if changed:
        save_validated(contact)
        CustomerEvent.objects.create(
            customer=contact.customer,
            actor=actor,
            action="contact_updated",
            note=f"{contact.name}: {describe_changes(changed)}",
        )
    return contact


@transaction.atomic
def create_customer_user(
    *, actor: User | None, customer: Customer, username: str, password: str, **fields
) -> User:
    """A sign-in for a customer's person: in the role its kind's policy names, scoped to it."""
    require_role(actor, Role.PROVIDER_ADMIN, action="Creating a customer user")
    user = User(username=username, customer=customer, **fields)
    user.set_password(password)
    save_validated(user, exclude=["password"])
    user.groups.add(Group.objects.get(name=customer.policy.user_role))
    return user


@transaction.atomic
def create_staff_user(
    *, actor: User | None, username: str, password: str, roles: list[str], **fields
) -> User:
    require_role(actor, Role.PROVIDER_ADMIN, action="Creating a staff user")
    unknown = set(roles) - {role.value for role in PROVIDER_ROLES}
    if unknown:
        raise ValidationError({"roles": f"not a provider role: {', '.join(sorted(unknown))}"})
    user = User(username=username, **fields)
    user.set_password(password)
    save_validated(user, exclude=["password"])
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user
