"""Who is told about an order: its approvers when it waits for them, its requester when it is
decided (through notifications; each person's text says what they may see, R7)."""

from __future__ import annotations

from django.urls import reverse

from servicebook.agreements.orders.models import Order, OrderBasis, OrderStatus
from servicebook.core.money import Money
from servicebook.notifications.kinds import Kind
from servicebook.notifications.services import Message, notify


def _amount(order: Order) -> str:
    charged = "at cost" if order.basis == OrderBasis.COST else "at the agreement's price"
    return f"{Money(order.yearly_amount, order.currency)} a year, charged {charged}"


def _what(order: Order) -> str:
    return f"{order.quantity.normalize():f} × {order.offering.name} on {order.agreement.reference}"


def awaiting_approval(order: Order) -> None:
    """The order's approvers (people of the customer with the authority) are asked to decide."""
    requester = order.requester.name
    notify(
        kind=Kind.ORDER,
        recipients=[contact.user for contact in order.approvers.select_related("user")],
        message=Message(
            f"Order {order.reference} awaits your approval",
            f"{requester} ordered {_what(order)}: {_amount(order)}, above their authority limit.",
            reverse("agreements:order", args=[order.pk]),
        ),
    )


def decided(order: Order) -> None:
    """The requester hears the decision (and, when approved, from when it applies)."""
    if order.status == OrderStatus.APPROVED:
        outcome = f"approved; it applies from {order.effective_from:%d %b %Y}"
    else:
        outcome = f"rejected: {order.reason}"
    notify(
        kind=Kind.ORDER,
        recipients=[order.requested_by],
        message=Message(
            f"Order {order.reference} {outcome.split(';')[0].split(':')[0]}",
            f"Your order of {_what(order)} was {outcome}.",
            reverse("agreements:order", args=[order.pk]),
        ),
    )
