"""Every write of customer orders: submit, approve, reject, apply (issue 15, decision 0017).

- ``submit_order``: a customer user (an active requester contact of its customer) orders more of
  an offering of its policy's catalog on one of its active agreements. Twelve months of the
  amount within the requester's authority limit: approved at once; above it: awaiting an
  approver of the same customer (recorded in ``Order.approvers``); no such approver: refused.
- ``approve_order`` / ``reject_order``: an approver of the same customer whose limit covers the
  order decides, with a reason (required to reject). Another customer's order is not found.
- ``apply_due_orders``: run by the period close; approved orders become a new version of their
  agreement (the line added or increased) starting on the first day after the closed period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from servicebook.agreements.models import Agreement, AgreementLine, AgreementStatus
from servicebook.agreements.orders import notices
from servicebook.agreements.orders.models import Order, OrderStatus
from servicebook.agreements.orders.selectors import (
    approver_candidates,
    effective_from,
    quote,
    self_approved_yearly,
)
from servicebook.agreements.orders.workflows import ORDER
from servicebook.agreements.services import _draft_amendment, _set_status
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.money import Money
from servicebook.core.services import save_validated
from servicebook.core.tenancy import customer_of
from servicebook.parties.authority import (
    contact_for_user,
    require_approver,
    require_customer_in_good_standing,
    require_requester,
)

MAX_QUANTITY = Decimal("1000000000")
ORDERING_ROLES = "internal_customer, external_customer"


def _own_contact(actor, agreement: Agreement, *, action: str):
    """The active contact of the agreement's customer signed in as ``actor`` (else refused)."""
    customer = customer_of(actor) if actor is not None else None
    if customer is None:
        raise PermissionDenied(f"{action} needs one of these roles: {ORDERING_ROLES}")
    if customer.pk != agreement.customer_id:
        raise DomainError("choose one of your own agreements", code="not_found", field="agreement")
    contact = contact_for_user(actor, customer)
    if contact is None:
        raise DomainError(
            f"{action}: your sign-in is not linked to a contact of {customer.name}; ask the "
            "provider to record your contact details",
            code="no_contact",
            field="requester",
        )
    return contact


def checked_quantity(value) -> Decimal:
    """A positive quantity of at most 4 decimals (refusal names the field and why)."""
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(
            f"the quantity must be a number, not {value!r}", code="invalid", field="quantity"
        ) from None
    if not quantity.is_finite() or quantity <= 0:
        raise DomainError(
            f"the quantity must be more than 0, not {value}", code="invalid", field="quantity"
        )
    if quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.0001")):
        raise DomainError(
            "the quantity has at most 4 decimals and is at most 1,000,000,000",
            code="invalid",
            field="quantity",
        )
    return quantity


@transaction.atomic
def submit_order(
    *,
    actor,
    agreement: Agreement,
    offering: Offering,
    quantity,
    note: str = "",
    today: dt.date | None = None,
) -> Order:
    """Order ``quantity`` more units of ``offering`` on ``agreement`` (see the module)."""
    today = today or timezone.localdate()
    contact = _own_contact(actor, agreement, action="Ordering")
    require_requester(contact)
    customer = agreement.customer
    require_customer_in_good_standing(customer, what="orders")
    if agreement.status != AgreementStatus.ACTIVE:
        raise DomainError(
            f"{agreement.reference} is {agreement.get_status_display().lower()}: order on an "
            "active agreement",
            code="agreement_not_active",
            field="agreement",
        )
    amount = checked_quantity(quantity)
    priced = quote(agreement=agreement, offering=offering, quantity=amount, today=today)
    order = Order(
        agreement=agreement,
        offering=offering,
        quantity=amount,
        basis=priced.basis,
        unit_rate=priced.unit_rate,
        unit_price=priced.unit_price,
        monthly_amount=priced.monthly,
        yearly_amount=priced.yearly,
        currency=priced.currency,
        note=(note or "").strip()[:2000],
        requester=contact,
        requested_by=actor,
    )
    save_validated(order)
    ORDER.record(order, actor, "submitted", to_state=OrderStatus.SUBMITTED, note=order.note)
    limit = contact.authority_limit if contact.authority_limit is not None else Decimal(0)
    yearly = Money(priced.yearly, priced.currency)
    # what the requester approved on their own authority this past year counts too: an order
    # split into parts under the limit still waits for an approver (R17)
    own = self_approved_yearly(contact, since=today - dt.timedelta(days=365))
    if priced.yearly + own <= limit:
        order.decided_by, order.decided_at = contact, timezone.now()
        order.effective_from = effective_from(today)
        ORDER.move(
            order,
            OrderStatus.APPROVED,
            actor=actor,
            note=f"{yearly} a year is within {contact.name}'s authority",
        )
        return order
    candidates = list(approver_candidates(customer, priced.yearly).exclude(pk=contact.pk))
    if not candidates:
        raise DomainError(
            f"{yearly} a year is above your authority limit of {Money(limit, priced.currency)} "
            f"and no approver of {customer.name} with a sign-in has the authority for it: ask "
            "your provider to record one",
            code="no_approver",
            field="quantity",
        )
    ORDER.move(
        order,
        OrderStatus.AWAITING_APPROVAL,
        actor=actor,
        note=f"{yearly} a year (with {Money(own, priced.currency)} already approved on their "
        f"own authority this year) is above {contact.name}'s authority limit; approvers: "
        + ", ".join(c.name for c in candidates),
    )
    order.approvers.set(candidates)
    notices.awaiting_approval(order)
    return order


def _deciding_contact(actor, order: Order, *, action: str):
    contact = _own_contact(actor, order.agreement, action=action)
    require_customer_in_good_standing(order.agreement.customer, what="approvals")
    require_approver(contact, amount=order.yearly_amount, currency=order.currency)
    return contact


@transaction.atomic
def approve_order(*, actor, order: Order, reason: str = "", today: dt.date | None = None) -> Order:
    """An approver of the order's customer approves it: it takes effect next period."""
    order = Order.objects.select_for_update().select_related("agreement__customer").get(pk=order.pk)
    ORDER.check(order, OrderStatus.APPROVED)
    contact = _deciding_contact(actor, order, action="Approving an order")
    order.decided_by, order.decided_at = contact, timezone.now()
    order.reason = (reason or "").strip()
    order.effective_from = effective_from(today or timezone.localdate())
    ORDER.move(order, OrderStatus.APPROVED, actor=actor, note=order.reason)
    notices.decided(order)
    return order


@transaction.atomic
def reject_order(*, actor, order: Order, reason: str) -> Order:
    """An approver of the order's customer rejects it, saying why; nothing else changes."""
    order = Order.objects.select_for_update().select_related("agreement__customer").get(pk=order.pk)
    ORDER.check(order, OrderStatus.REJECTED)
    contact = _deciding_contact(actor, order, action="Rejecting an order")
    text = (reason or "").strip()
    if not text:
        raise DomainError("say why the order is rejected", code="required", field="reason")
    order.decided_by, order.decided_at, order.reason = contact, timezone.now(), text
    ORDER.move(order, OrderStatus.REJECTED, actor=actor, note=text)
    notices.decided(order)
    return order


@transaction.atomic
def apply_due_orders(*, actor, on: dt.date) -> list[Order]:
    """Approved orders due by ``on`` become lines of a new version of their agreement starting
    ``on`` (the first day after a closed period). An agreement that cannot take them now (its
    new version could not be activated, or a version already starts then) keeps them approved,
    with the reason recorded, for the next close."""
    due = (
        Order.objects.filter(status=OrderStatus.APPROVED, effective_from__lte=on)
        .select_related("agreement", "offering")
        .order_by("pk")
    )
    by_reference: dict[str, list[Order]] = defaultdict(list)
    for order in due:
        by_reference[order.agreement.reference].append(order)
    applied: list[Order] = []
    for reference, orders in sorted(by_reference.items()):
        try:
            with transaction.atomic():
                applied += _apply(actor, reference, orders, on)
        except DomainError as error:
            for order in orders:
                ORDER.record(order, actor, "not_applied", note=f"not applied on {on}: {error}")
    return applied


def _apply(actor, reference: str, orders: list[Order], on: dt.date) -> list[Order]:
    current = (
        Agreement.objects.select_for_update()
        .filter(reference=reference, status=AgreementStatus.ACTIVE)
        .order_by("-version")
        .first()
    )
    if current is None or current.start_date >= on:
        raise DomainError(f"{reference} has no active version in force before {on}")
    if current.end_date is not None and current.end_date < on:
        raise DomainError(f"{reference} ends on {current.end_date}")
    if Agreement.objects.filter(previous=current).exists():
        raise DomainError(f"{reference} already has a draft amendment: finish it first")
    refs = ", ".join(order.reference for order in orders)
    new = _draft_amendment(actor=actor, agreement=current, note=f"orders {refs}")
    worth_before = current.lines_value()
    new.start_date = on
    save_validated(new)
    for order in orders:
        line = new.lines.filter(offering=order.offering).first() or AgreementLine(
            agreement=new, offering=order.offering, quantity=Decimal(0), unit_price=order.unit_price
        )
        line.quantity += order.quantity
        save_validated(line)
    added = (new.lines_value() or Decimal(0)) - (worth_before or Decimal(0))
    if new.contract_value is not None:  # R3: the ordered units are paid in cash
        new.contract_value += added
        if new.consideration_cash is not None:
            new.consideration_cash += added
        save_validated(new)
    current.end_date = on - dt.timedelta(days=1)
    save_validated(current)
    _set_status(
        actor=actor,
        agreement=new,
        to_status=AgreementStatus.ACTIVE,
        note=f"orders {refs} approved by the customer's approvers",
        signature_required=False,
    )
    for order in orders:
        order.applied_version = new
        ORDER.move(
            order, OrderStatus.APPLIED, actor=actor, note=f"{reference} v{new.version} from {on}"
        )
    return orders
