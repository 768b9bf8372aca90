"""Issue 15 in a real browser: SkyBridge's requester raises an incident and orders consultant
hours above her authority limit; Marc, its approver, finds both under My work and an e-mail in a
real SMTP server on loopback, and approves the order; the close of the month puts the line on
the contract from the next one."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from servicebook.agreements.models import Agreement
from servicebook.agreements.orders.models import Order
from servicebook.catalog.models import Offering
from tests.smtp import smtp_server


@pytest.fixture
def smtp(settings):
    """Mail from the live server goes through a real SMTP server on loopback."""
    with smtp_server() as inbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
            "127.0.0.1",
            inbox.port,
            False,
        )
        yield inbox


def test_external_raises_a_ticket_and_orders_above_its_limit(page, login, shot, smtp):
    login("external-requester")
    page.goto("/service-levels/my-tickets/")
    page.get_by_test_id("raise-ticket").click()
    contract = Agreement.objects.get(reference="CT-SKY-2026", status="active")
    page.select_option("#id_agreement", str(contract.pk))
    page.select_option("#id_kind", "incident")
    page.fill("#id_short_description", "Check-in kiosks cannot print boarding passes")
    page.fill("#id_description", "All kiosks at CDG terminal 2 since 06:00.")
    page.select_option("#id_impact", "1")
    page.select_option("#id_urgency", "1")
    page.get_by_role("button", name="Raise").click()
    expect(page.get_by_test_id("ticket-state")).to_have_text("New")
    expect(page.get_by_test_id("ticket-comments")).to_contain_text("CDG terminal 2")
    shot("ticket-raised")

    page.goto("/agreements/orders/new/")
    expect(page.get_by_test_id("order-catalog")).to_contain_text("Price per unit")
    body = page.locator("main").inner_text()
    assert not re.search(r"\bcost\b|\bmargin\b|Secure node", body, re.IGNORECASE), body
    page.select_option("#id_agreement", str(contract.pk))
    consulting = Offering.objects.get(code="consulting-hour")
    page.select_option("#id_offering", str(consulting.pk))
    page.fill("#id_quantity", "0")
    page.get_by_role("button", name="Order").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("more than 0")
    page.fill("#id_quantity", "45")
    page.get_by_role("button", name="Order").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting approval")
    expect(page.get_by_test_id("order-monthly")).to_contain_text("EUR 5,175.00")
    shot("order-awaiting-approval")

    login("external")
    order = Order.objects.filter(requester__name="Sophie Martin", quantity=45).get()
    page.get_by_test_id("my-work").click()
    expect(page.get_by_test_id("my-work-count")).to_be_visible()
    waiting = page.locator("section[aria-labelledby=waiting]")
    expect(waiting).to_contain_text(f"Approve order {order.reference}")
    expect(waiting).to_contain_text("Check-in kiosks cannot print boarding passes")
    shot("approver-my-work")
    mails = {
        content.split("Subject: ")[1].splitlines()[0]: (to, content)
        for _, to, content in smtp.wait(2)
    }
    to, mail = mails[f"Order {order.reference} awaits your approval"]
    assert to == ["marc.lefevre@skybridge.example"]
    assert f"/agreements/orders/{order.pk}/" in mail
    assert not re.search(r"\bcost\b|\bmargin\b", mail, re.IGNORECASE)
    page.goto("/agreements/orders/")
    expect(page.get_by_test_id("orders-to-approve")).to_contain_text("Sophie Martin")
    page.goto(f"/agreements/orders/{order.pk}/")
    page.get_by_test_id("order-decide").click()
    page.select_option("#id_decision", "approve")
    page.fill("#id_reason", "Within the loyalty app budget")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Approved")
    shot("order-approved")

    from servicebook.core.models import User
    from servicebook.finance.billing.services import close_period

    order.refresh_from_db()
    month = order.effective_from - dt.timedelta(days=1)
    close_period(
        actor=User.objects.get(username="finance"),
        period=f"{month:%Y-%m}",
        today=order.effective_from,
    )
    order.refresh_from_db()
    assert order.status == "applied"
    new = Agreement.objects.get(reference="CT-SKY-2026", status="active")
    assert new.start_date == order.effective_from and new.start_date.day == 1
    assert new.start_date > dt.date.today()
    assert new.lines.get(offering=consulting).quantity == 160 + 45
