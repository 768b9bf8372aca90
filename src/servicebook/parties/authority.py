"""Who speaks for a customer (R16, R17): shared by changes, demand and improvement.

(``parties.services.require_good_standing`` is the weaker check for drafting agreements, which
prospects may have; approvals and requests here need an *active* customer.)

- a suspended or terminated customer's approvals and new requests are refused (R16);
- only an active contact with the approver role whose authority limit covers the value at stake
  may approve (R17), and only an active contact with the requester role may ask for something;
- a customer user acts as the contact linked to its sign-in (``Contact.user``); provider staff
  record a decision on behalf of a named contact.

Refusals name the contact, its limit and the amount, in the customer's own terms.
"""

from __future__ import annotations

from decimal import Decimal

from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.money import Money
from servicebook.core.roles import is_provider_staff
from servicebook.core.services import require_role
from servicebook.core.tenancy import customer_of
from servicebook.parties.models import Contact, Customer, CustomerStatus


def require_customer_in_good_standing(customer: Customer, *, what: str) -> None:
    """R16: a suspended or terminated customer's approvals and requests are refused.

    The status is read afresh from the database: it is what counts, not a copy in memory.
    """
    customer = Customer.objects.get(pk=customer.pk)
    if customer.status != CustomerStatus.ACTIVE:
        reason = (
            f" ({customer.get_status_reason_display().lower()})" if customer.status_reason else ""
        )
        raise DomainError(
            f"{customer.name} is {customer.get_status_display().lower()}{reason}: "
            f"its {what} are refused",
            code="customer_not_active",
            field="customer",
        )


def contact_for_user(user, customer: Customer) -> Contact | None:
    """The active contact of ``customer`` linked to this signed-in customer user, if any
    (an inactive contact no longer speaks for its customer)."""
    return Contact.objects.filter(customer=customer, user=user, active=True).first()


def acting_contact(
    actor, customer: Customer, contact: Contact | None, *, staff_roles: tuple[str, ...], action: str
) -> Contact:
    """The contact a decision is recorded for.

    A customer user acts for its own customer as itself; provider staff holding ``staff_roles``
    record a decision on behalf of the contact they name (e.g. from a signed e-mail).
    """
    if actor is not None and not is_provider_staff(actor):
        own = customer_of(actor)
        if own is None or own.pk != customer.pk:
            raise PermissionDenied(f"{action}: only {customer.name}'s own people may do this")
        me = contact_for_user(actor, customer)
        if me is None:
            raise DomainError(
                f"{action}: your sign-in is not linked to a contact of {customer.name}; "
                "ask the provider to record your contact details",
                code="no_contact",
                field="contact",
            )
        if contact is not None and contact.pk != me.pk:
            raise PermissionDenied(f"{action}: you can only act as yourself ({me.name})")
        return me
    require_role(actor, *staff_roles, action=action)
    if contact is None:
        raise DomainError(
            f"{action}: name the contact of {customer.name} this is recorded for",
            code="contact_required",
            field="contact",
        )
    if contact.customer_id != customer.pk:
        raise DomainError(
            f"{contact.name} is not a contact of {customer.name}",
            code="wrong_customer",
            field="contact",
        )
    return contact


def require_approver(contact: Contact, *, amount: Decimal, currency: str) -> None:
    """R17: an active approver whose authority limit covers ``amount`` (refusal says why)."""
    customer = contact.customer
    if not contact.active:
        raise DomainError(
            f"{contact.name} is no longer an active contact of {customer.name}",
            code="no_authority",
            field="contact",
        )
    if not contact.is_approver:
        raise DomainError(
            f"{contact.name} does not have the approver role at {customer.name}",
            code="no_authority",
            field="contact",
        )
    limit = contact.authority_limit if contact.authority_limit is not None else Decimal(0)
    if amount > limit:
        raise DomainError(
            f"{contact.name}'s authority limit of {Money(limit, currency)} is below the "
            f"{Money(amount, currency)} at stake",
            code="no_authority",
            field="contact",
        )


def require_requester(contact: Contact) -> None:
    """R17: only an active contact with the requester role may ask for a service."""
    if not (contact.active and contact.is_requester):
        raise DomainError(
            f"{contact.name} is not an authorized requester of {contact.customer.name}",
            code="not_a_requester",
            field="requester",
        )
