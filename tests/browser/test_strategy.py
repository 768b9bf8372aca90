"""Strategy in a real browser: a senior manager opens the objective behind R&D's secure data
centre request, reads its trend against the target and records the month's reading (R9)."""

from playwright.sync_api import expect

from servicebook.parties.models import Objective
from servicebook.strategy.models import Reading


def test_senior_manager_records_a_reading_on_the_objective_page(page, login, shot):
    research = Objective.objects.get(title__startswith="Protect the group's research")
    login("senior")
    page.goto("/strategy/")
    page.click(f"text={research.title}")
    expect(page.get_by_test_id("trend-chart").first).to_be_visible()
    expect(page.get_by_test_id("objective-demands")).to_contain_text(
        "Secure data centre for confidential research"
    )
    expect(page.get_by_test_id("objective-services")).to_contain_text("Cost")
    shot("objective")
    page.click("text=Record a reading")
    page.fill("#id_period", "2026-11")
    page.fill("#id_value", "83")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("latest-reading").first).to_contain_text("83 %")
    reading = Reading.objects.get(measure__objective=research, period="2026-11")
    assert reading.source == "entered" and reading.recorded_by.username == "senior"
