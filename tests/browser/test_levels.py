"""Service levels in a real browser: the retailer's credit, Marketing's improvement item, a
ticket's clock timeline, and scoping for customer users."""

from playwright.sync_api import expect

from servicebook.agreements.models import Agreement


def test_staff_see_credit_and_improvement_item_and_a_ticket_clock(page, login, shot):
    login("manager")
    page.goto("/")
    nav = page.locator("nav")
    nav.get_by_role("button", name="Service levels").click()  # a menu: the list, My tickets
    nav.locator(".dropdown-menu").get_by_role("link", name="Service levels").click()
    expect(page.get_by_test_id("levels-agreements")).to_contain_text("CT-MER-2026")
    page.get_by_role("link", name="CT-MER-2026").click()
    expect(page.get_by_test_id("levels-kind")).to_have_text("Contract")
    expect(page.get_by_test_id("breaches")).to_contain_text("2026-03")
    expect(page.get_by_test_id("breach-consequence").first).to_contain_text("EUR 2,204.00")
    expect(page.get_by_test_id("credit-amount").first).to_have_text("EUR 2,204.00")
    # the trend chart is drawn by Chart.js (the canvas gets a size)
    page.wait_for_function("document.querySelector('[data-testid=availability-chart]').width > 0")
    page.wait_for_timeout(1200)  # let the chart animation finish
    shot("retail-service-levels")

    marketing = Agreement.objects.get(reference="SLA-MKT-2026")
    page.goto(f"/service-levels/{marketing.pk}/")
    expect(page.get_by_test_id("levels-kind")).to_have_text("Service level agreement")
    expect(page.get_by_test_id("improvements")).to_contain_text("Draft")
    expect(page.get_by_test_id("breaches")).to_contain_text("2026-04")
    page.get_by_test_id("breaches").get_by_role("link").first.click()
    expect(page.get_by_test_id("clocks")).to_contain_text("breached")
    expect(page.get_by_test_id("deadline-marker")).to_have_count(2)
    expect(page.get_by_test_id("segments")).to_contain_text("Resolved")
    shot("ticket-clock")
    page.goto(f"/service-levels/{marketing.pk}/")
    page.get_by_role("button", name="Recompute").click()  # a background job (run inline here)
    expect(page.get_by_test_id("job-state")).to_have_text("Succeeded")


def test_customer_users_see_only_their_own_service_levels(page, login, shot):
    login("external")
    page.goto("/service-levels/")
    rows = page.get_by_test_id("levels-agreements")
    expect(rows).to_contain_text("CT-SKY-2026")
    expect(rows).not_to_contain_text("CT-MER-2026")
    page.get_by_role("link", name="CT-SKY-2026").click()
    expect(page.get_by_test_id("credits")).to_be_visible()
    expect(page.get_by_role("button", name="Recompute")).to_have_count(0)
    assert "cost" not in page.locator("body").inner_text().lower()
    shot("external-service-levels")
    retail = Agreement.objects.get(reference="CT-MER-2026")
    assert page.goto(f"/service-levels/{retail.pk}/").status == 404

    login("internal")
    marketing = Agreement.objects.get(reference="SLA-MKT-2026")
    page.goto(f"/service-levels/{marketing.pk}/")
    expect(page.get_by_test_id("improvements")).to_contain_text("P1 resolution")
