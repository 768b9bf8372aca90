"""R7 in a real browser: the external user sees prices and no cost; the internal user sees cost."""

import re

from playwright.sync_api import expect

from servicebook.agreements.models import Agreement


def test_external_sees_prices_and_no_cost_internal_sees_cost(page, login, shot):
    login("external")
    airline = Agreement.objects.get(reference="CT-SKY-2026")
    page.goto(f"/agreements/{airline.pk}/")
    expect(page.get_by_test_id("agreement-kind")).to_have_text("Contract")
    expect(page.get_by_test_id("line-price").first).to_contain_text("EUR")
    expect(page.get_by_test_id("total-price")).to_have_text("EUR 21,020.00")
    expect(page.get_by_test_id("line-cost")).to_have_count(0)
    expect(page.get_by_test_id("total-cost")).to_have_count(0)
    body = page.locator("body").inner_text()
    assert not re.search(r"\bcost\b|\bmargin\b", body, re.IGNORECASE), body
    shot("external-agreement")
    page.goto("/catalog/")
    expect(page.get_by_test_id("unit-cost")).to_have_count(0)
    expect(page.get_by_text("IT Consulting")).to_be_visible()
    expect(page.get_by_text("Payroll Application")).to_have_count(0)
    # another customer's agreement does not exist for this user
    retail = Agreement.objects.get(reference="CT-MER-2026")
    response = page.goto(f"/agreements/{retail.pk}/")
    assert response.status == 404

    login("internal")
    marketing = Agreement.objects.get(reference="SLA-MKT-2026")
    page.goto(f"/agreements/{marketing.pk}/")
    expect(page.get_by_test_id("agreement-kind")).to_have_text("Service level agreement")
    expect(page.get_by_test_id("line-cost").first).to_be_visible()
    expect(page.get_by_test_id("total-cost")).to_contain_text("EUR")
    expect(page.get_by_text("Margin")).to_have_count(0)
    shot("internal-agreement")


def test_manager_filters_customers_and_activates_an_agreement(page, login, shot):
    login("manager")
    page.goto("/customers/")
    page.fill("#id_q", "sky")  # the list's search field (the navigation bar has one too)
    expect(page.locator("#customer-rows tr")).to_have_count(1)
    expect(page.locator("#customer-rows")).to_contain_text("SkyBridge Airlines")
    page.goto("/agreements/new/")
    page.select_option("#id_customer", label="Human Resources")
    page.fill("#id_reference", "SLA-HR-BROWSER")
    page.fill("#id_title", "Extra laptops")
    page.fill("#id_start_date", "2026-03-01")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("agreement-kind")).to_have_text("Service level agreement")
    page.select_option("#id_offering", label="Workplace IT: Managed laptop")
    page.fill("#id_quantity", "4")
    page.click("form[action$='/lines/new/'] button[type=submit]")
    expect(page.get_by_test_id("total-cost")).to_have_text("EUR 128.00")
    page.select_option("select[name=to_status]", "active")
    page.click("text=Change status")
    expect(page.locator("body")).to_contain_text("Active")
    shot("activated")
