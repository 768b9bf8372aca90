"""Customer orders (issue 15, decision 0017).

An external user sees the price and never a cost; an internal user sees the cost it will be
charged and its budget left. An order above the requester's authority waits for an approver of
the same organization (another customer's approver cannot decide it); approval puts the line
on the agreement from the next period at the close; rejection writes nothing else; bad
quantities are refused with a clear message.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from servicebook import ports
from servicebook.agreements.models import Agreement
from servicebook.agreements.orders import services
from servicebook.agreements.orders.models import Order, OrderEvent
from servicebook.agreements.selectors import orders_awaiting_approval
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.core.periods import next_period, period_dates, period_of
from tests.agreements.router_writes import fingerprint

pytestmark = pytest.mark.django_db

API = "/api/orders/"


def _active(reference: str) -> Agreement:
    return Agreement.objects.filter(reference=reference, status="active").latest("version")


def _order(client, reference, code, quantity):
    body = {
        "agreement": _active(reference).pk,
        "offering": Offering.objects.get(code=code).pk,
        "quantity": quantity,
    }
    return client.post(API, body, format="json")


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_the_demo_has_an_order_waiting_for_the_external_approver(users):
    waiting = list(orders_awaiting_approval(users["external"]))
    assert [o.requester.name for o in waiting] == ["Sophie Martin"]
    assert not list(orders_awaiting_approval(users["internal"]))
    assert not list(orders_awaiting_approval(users["external-requester"]))


def test_external_order_above_the_limit_waits_for_its_own_approver(users, client_for):
    requester = client_for(users["external-requester"])
    response = _order(requester, "CT-SKY-2026", "consulting-hour", "40")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "awaiting_approval" and body["basis"] == "price"
    assert D(body["unit_rate"]) == D("115")  # the contract's negotiated price, not the list
    assert D(body["monthly_amount"]) == D("4600.00")  # EUR 55,200 a year > 50,000
    assert not [key for key in _keys(body) if "cost" in key or "margin" in key]
    assert body["approvers"] == ["Marc Lefèvre"]
    order = Order.objects.get(pk=body["id"])
    assert order in orders_awaiting_approval(users["external"])
    # another customer's approver neither sees nor decides it
    other = client_for(users["internal"])
    assert other.get(f"{API}{order.pk}/").status_code == 404
    assert other.post(f"{API}{order.pk}/approve/", {}, format="json").status_code == 404
    # the requester is no approver
    refused = requester.post(f"{API}{order.pk}/approve/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "no_authority"
    # staff do not decide for the customer
    staff = client_for(users["manager"]).post(f"{API}{order.pk}/approve/", {}, format="json")
    assert staff.status_code == 403
    approved = client_for(users["external"]).post(
        f"{API}{order.pk}/approve/", {"reason": "budgeted"}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


def test_the_external_user_never_sees_a_cost_on_the_pages(users, web_for):
    web = web_for(users["external-requester"])
    page = web.get(reverse("agreements:order-create")).content.decode()
    assert "Price per unit" in page and "cost" not in page.lower().replace("cost-", "")
    assert "Secure node" not in page  # an internal-only service is not in its catalog
    bad = web.post(
        reverse("agreements:order-create"),
        {
            "agreement": _active("CT-SKY-2026").pk,
            "offering": Offering.objects.get(code="hpc-node-hour").pk,
            "quantity": "1",
        },
    )
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_internal_user_sees_the_cost_charged_and_the_budget_left(users, client_for, web_for):
    web = web_for(users["internal-requester"])
    page = web.get(reverse("agreements:order-create")).content.decode()
    assert "Cost charged per unit" in page and "Budget for" in page
    response = _order(client_for(users["internal-requester"]), "SLA-MKT-2026", "m365-seat", "2")
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    charged = ports.charged_unit_cost(
        order.offering, order.agreement.customer, next_period(period_of(order.created_at.date()))
    )
    assert body["basis"] == "cost" and D(body["unit_rate"]) == round(charged, 6)
    assert body["status"] == "approved"  # EUR 300 a year, within the EUR 2,000 limit
    assert body["budget_left"] is not None
    detail = web.get(reverse("agreements:order", args=[body["id"]])).content.decode()
    assert "Budget left" in detail and "Cost charged per unit" in detail


def test_approval_becomes_a_line_from_the_next_period_at_the_close(users):
    from servicebook.finance.billing.services import close_period

    today = dt.date(2026, 11, 20)
    agreement = _active("SLA-MKT-2026")
    laptop = Offering.objects.get(code="laptop")
    before = agreement.lines.get(offering=laptop).quantity
    order = services.submit_order(
        actor=users["internal-requester"],
        agreement=agreement,
        offering=laptop,
        quantity="6",
        today=today,
    )
    assert order.status == "awaiting_approval"  # 6 × EUR 32 × 12 = 2,304 > Paul's 2,000
    services.approve_order(actor=users["internal"], order=order, reason="ok", today=today)
    order.refresh_from_db()
    assert order.effective_from == dt.date(2026, 12, 1)
    assert _active("SLA-MKT-2026").pk == agreement.pk  # nothing changes before the close
    result = close_period(actor=users["finance"], period="2026-11", today=dt.date(2026, 12, 1))
    assert result["orders_applied"] >= 1
    order.refresh_from_db()
    new = _active("SLA-MKT-2026")
    assert order.status == "applied" and order.applied_version == new
    assert new.version == agreement.version + 1 and new.start_date == dt.date(2026, 12, 1)
    assert new.lines.get(offering=laptop).quantity == before + 6
    agreement.refresh_from_db()
    assert agreement.status == "expired" and agreement.end_date == dt.date(2026, 11, 30)
    # the month closed before is billed on the old quantity, the next one on the new
    from servicebook.finance.billing.models import StatementLine

    def billed(period):
        rows = StatementLine.objects.filter(
            statement__customer=agreement.customer, statement__period=period, offering=laptop
        )
        return sum(row.quantity for row in rows)

    assert billed("2026-11") == before
    close_period(actor=users["finance"], period="2026-12", today=dt.date(2027, 1, 1))
    assert billed("2026-12") == before + 6


def test_rejection_writes_nothing_but_the_decision(users):
    order = services.submit_order(
        actor=users["external-requester"],
        agreement=_active("CT-SKY-2026"),
        offering=Offering.objects.get(code="consulting-hour"),
        quantity="50",
    )
    before = fingerprint("agreements")
    with pytest.raises(DomainError) as refused:
        services.reject_order(actor=users["external"], order=order, reason="  ")
    assert refused.value.field == "reason"
    assert fingerprint("agreements") == before
    lines = list(_active("CT-SKY-2026").lines.values_list("offering", "quantity"))
    services.reject_order(actor=users["external"], order=order, reason="not this year")
    order.refresh_from_db()
    assert order.status == "rejected" and order.reason == "not this year"
    assert list(_active("CT-SKY-2026").lines.values_list("offering", "quantity")) == lines
    assert OrderEvent.objects.filter(order=order, to_state="rejected").count() == 1
    with pytest.raises(DomainError) as again:
        services.approve_order(actor=users["external"], order=order)
    assert again.value.code == "invalid_transition"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "more than 0"),
        ("-3", "more than 0"),
        ("abc", "must be a number"),
        ("1.00001", "at most 4 decimals"),
        ("NaN", "more than 0"),
        ("1e12", "at most 1,000,000,000"),
    ],
)
def test_bad_quantities_are_refused_clearly(users, client_for, quantity, message):
    before = fingerprint("agreements")
    requester = client_for(users["external-requester"])
    response = _order(requester, "CT-SKY-2026", "consulting-hour", quantity)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "quantity" and message in body["detail"], body
    assert fingerprint("agreements") == before


def test_staff_and_another_customer_cannot_order(users, client_for):
    before = fingerprint("agreements")
    for role in ("manager", "finance", "admin"):
        response = _order(client_for(users[role]), "CT-SKY-2026", "consulting-hour", "1")
        assert response.status_code == 403, role
    other = _order(client_for(users["internal"]), "CT-SKY-2026", "consulting-hour", "1")
    assert other.status_code == 400 and "agreement" in other.json()
    assert fingerprint("agreements") == before


def test_effective_period_is_the_next_one():
    day = dt.date(2026, 12, 31)
    assert period_dates(next_period(period_of(day)))[0] == dt.date(2027, 1, 1)


def test_an_order_split_under_the_limit_still_waits_for_an_approver(users, client_for):
    """Sophie (EUR 50,000 a year) orders 36 consultant hours a month (EUR 49,680 a year) on
    her own authority; a second part of the same need then waits for Marc (attack finding 3)."""
    from servicebook.core.models import User

    requester = client_for(User.objects.get(username="external-requester"))
    first = _order(requester, "CT-SKY-2026", "consulting-hour", "36")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "approved"
    second = _order(requester, "CT-SKY-2026", "consulting-hour", "1")
    assert second.status_code == 201, second.content
    assert second.json()["status"] == "awaiting_approval"


def test_the_budget_left_counts_approved_orders(users, client_for):
    from servicebook.agreements.orders.selectors import budget_left, effective_period
    from servicebook.core.models import User

    requester = User.objects.get(username="internal-requester")
    customer = requester.customer
    period = effective_period(dt.date.today())
    _, before = budget_left(customer, period)
    created = _order(client_for(requester), "SLA-MKT-2026", "desk-user", "1")
    assert created.status_code == 201, created.content
    order = Order.objects.get(pk=created.json()["id"])
    assert order.status == "approved"  # within Paul's limit
    _, after = budget_left(customer, period)
    assert after == before - order.monthly_amount


def test_the_web_forms_keep_the_apis_length_limits(users, web_for):
    from servicebook.core.models import User

    client = web_for(User.objects.get(username="external-requester"))
    before = Order.objects.count()
    response = client.post(
        reverse("agreements:order-create"),
        {
            "agreement": _active("CT-SKY-2026").pk,
            "offering": Offering.objects.get(code="consulting-hour").pk,
            "quantity": "1",
            "note": "x" * 100_000,
        },
    )
    assert response.status_code == 200 and "at most 2000 characters" in response.content.decode()
    assert Order.objects.count() == before
    waiting = Order.objects.filter(status="awaiting_approval").first()
    decide = web_for(users["external"]).post(
        reverse("agreements:order-decide", args=[waiting.pk]),
        {"decision": "approve", "reason": "x" * 100_000},
    )
    assert decide.status_code == 200
    waiting.refresh_from_db()
    assert waiting.status == "awaiting_approval"
