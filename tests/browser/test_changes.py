"""R11 and R18 in a real browser: an internal approver co-authorizes a change and adds a test
task; an external contact accepts a price impact; the R&D demand shows who justified it."""

import re

from playwright.sync_api import expect

from servicebook.changes.models import ChangeRequest
from servicebook.demand.models import DemandRequest


def _patches():
    return ChangeRequest.objects.get(title="Hypervisor security patches")


def test_internal_co_authorizes_and_adds_a_test_task(page, login, shot):
    change = _patches()
    login("internal")
    page.goto(f"/changes/{change.pk}/")
    expect(page.get_by_test_id("decision-marketing")).to_have_text("Pending")
    expect(page.get_by_test_id("cost-impact")).to_contain_text("EUR")  # internal sees cost
    expect(page.get_by_test_id("impact-skybridge")).to_have_count(0)  # not another customer's
    page.get_by_test_id("decide-marketing").click()
    page.select_option("#id_verdict", "approve")
    page.fill("#id_note", "Marketing agrees; avoid campaign launch week")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("decision-marketing")).to_have_text("Approved")
    expect(page.get_by_test_id("approvals")).to_contain_text("Clara Dupont")
    page.get_by_test_id("add-task").click()
    page.select_option("#id_kind", "test")
    page.fill("#id_title", "Smoke-test the campaign sites after the patch")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("tasks")).to_contain_text("Smoke-test the campaign sites")
    shot("internal-co-authorized")


def test_external_accepts_a_price_impact(page, login, shot):
    change = _patches()
    login("external")
    page.goto(f"/changes/{change.pk}/")
    expect(page.get_by_test_id("impact-skybridge")).to_contain_text("EUR 120.00")
    expect(page.get_by_test_id("cost-impact")).to_have_count(0)
    expect(page.get_by_test_id("add-task")).to_have_count(0)
    page.get_by_test_id("accept-price-skybridge").click()
    expect(page.get_by_test_id("price-to-accept")).to_contain_text("EUR 1440.00 a year")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("price-accepted-skybridge")).to_contain_text("Marc Lefèvre")
    page.get_by_test_id("decide-skybridge").click()
    page.select_option("#id_verdict", "approve")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("decision-skybridge")).to_have_text("Approved")
    body = page.locator("main").inner_text()
    assert not re.search(r"\bcost\b|\bmargin\b|Marketing", body, re.IGNORECASE), body
    shot("external-price-accepted")
    page.goto("/changes/schedule/")
    expect(page.get_by_test_id("feed-url")).to_have_value(re.compile(r"/changes/feed/.+\.ics$"))


def test_secure_data_centre_story(page, login, shot):
    demand = DemandRequest.objects.get(title="Secure data centre for confidential research")
    login("manager")
    page.goto(f"/demand/{demand.pk}/")
    expect(page.get_by_test_id("demand-status")).to_have_text("Approved")
    expect(page.get_by_test_id("justification")).to_contain_text("25.00%")
    expect(page.get_by_test_id("justified-by")).to_have_text("Sofia Senior")
    expect(page.get_by_test_id("history")).to_contain_text("held")
    shot("secure-data-centre")
    page.goto("/demand/capacity/")
    expect(page.get_by_test_id("pool").first).to_contain_text("Infrastructure engineering")
    shot("capacity")
