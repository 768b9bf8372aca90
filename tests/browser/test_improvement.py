"""Improvement in a real browser: an internal customer approves an improvement plan; an external
customer sees expected results only, then, once its relationship is flagged in difficulty, is
invited into the plan by a service manager (R14)."""

import datetime as dt
from decimal import Decimal as D

from playwright.sync_api import expect

from servicebook.core.models import User
from servicebook.improvement import services
from servicebook.improvement.models import Improvement
from servicebook.parties.models import Customer


def test_internal_customer_approves_an_improvement_plan(page, login, shot):
    marketing = Customer.objects.get(code="marketing")
    item = services.create_improvement(
        actor=User.objects.get(username="manager"),
        customer=marketing,
        title="Self-service laptop refresh booking",
        source="customer_request",
        driver="business_impact",
        expected_measure="Laptop refreshes booked without a call (%)",
        expected_value=D("80"),
        expected_by=dt.date(2027, 3, 31),
        estimated_cost=D("2400"),
    )
    login("internal")
    page.goto("/improvement/")
    page.click("text=Self-service laptop refresh booking")
    expect(page.get_by_test_id("involvement")).to_contain_text("takes part in this plan")
    expect(page.get_by_test_id("missing-approvals")).to_contain_text("Marketing")
    expect(page.get_by_test_id("estimated-cost")).to_contain_text("EUR 2,400.00")
    page.get_by_test_id("approve").click()
    page.fill("#id_note", "Agreed with the team leads.")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("improvement-status")).to_have_text("Approved")
    expect(page.get_by_test_id("approvals")).to_contain_text("Clara Dupont approved")
    expect(page.get_by_test_id("history")).to_contain_text("customer approved")
    shot("approved")
    item.refresh_from_db()
    assert item.status == "approved"


def test_external_customer_sees_results_then_is_invited_in(page, login, shot):
    item = Improvement.objects.get(title__startswith="Frankfurt-only hosting")
    login("external")
    page.goto("/improvement/")
    page.click("text=Frankfurt-only hosting option for EU data")
    expect(page.get_by_test_id("results-only")).to_be_visible()
    expect(page.get_by_test_id("expected-result")).to_contain_text("at least 100")
    expect(page.get_by_test_id("progress")).to_contain_text("1 of 2 actions done")
    expect(page.get_by_test_id("actions")).to_have_count(0)
    body = page.locator("body")
    for secret in ("Estimated cost", "margin", "Design a Frankfurt-only", "second storage"):
        expect(body).not_to_contain_text(secret)
    shot("results-only")

    login("manager")
    airline = Customer.objects.get(code="skybridge")
    page.goto(f"/improvement/health/{airline.pk}/")
    page.get_by_test_id("flag").click()
    page.fill("#id_reason", "Two failed releases; the CIO asked for a recovery plan.")
    page.click("button[type=submit]")
    page.goto(f"/improvement/health/{airline.pk}/")
    expect(page.get_by_test_id("in-difficulty")).to_contain_text("Two failed releases")
    expect(page.get_by_test_id("difficulty-history")).to_contain_text("flagged in difficulty")
    page.goto(f"/improvement/{item.pk}/")
    page.get_by_test_id("add-participant").click()
    page.select_option("#id_contact", label="Marc Lefèvre (SkyBridge Airlines)")
    page.fill("#id_note", "Join the recovery plan")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("participants")).to_contain_text("Marc Lefèvre")
    expect(page.get_by_test_id("participants")).to_contain_text("invited")
    expect(page.get_by_test_id("history")).to_contain_text("invited")
    shot("invited-by-manager")

    login("external")
    page.goto(f"/improvement/{item.pk}/")
    expect(page.get_by_test_id("involvement")).to_contain_text("You are invited into this plan")
    expect(page.get_by_test_id("actions")).to_contain_text("Design a Frankfurt-only placement")
    for secret in ("Estimated cost", "margin", "second storage", "in difficulty"):
        expect(body).not_to_contain_text(secret)
    action = item.actions.filter(done=False).first()
    page.get_by_test_id(f"comment-{action.pk}").click()
    page.fill("#id_body", "We can migrate the test VMs first.")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("actions")).to_contain_text("We can migrate the test VMs first.")
    shot("invited")


def test_manager_reads_the_dashboard_and_a_review_pack(page, login, shot):
    login("manager")
    page.goto("/improvement/dashboard/?period=2026-10")
    expect(page.get_by_test_id("capacity")).to_contain_text("funded by external revenue")
    expect(page.get_by_test_id("customers-health")).to_contain_text("Pacific Analytics")
    expect(page.locator("canvas[data-testid=status-chart]")).to_be_visible()
    shot("dashboard")
    page.goto("/improvement/reviews/")
    page.get_by_test_id("pack-meridian").click()
    expect(page.get_by_test_id("pack-charges")).to_contain_text("Invoice")
    expect(page.get_by_test_id("pack-charges")).not_to_contain_text("Unit cost")
    expect(page.get_by_test_id("pack-improvements")).to_contain_text("Keep Meridian")
    shot("review-pack")
