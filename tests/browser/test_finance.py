"""Money in a real browser: finance closes a month, reports draw charts, the airline sees its
invoice split into cash and tickets without any cost, the internal customer its statement."""

import re

from playwright.sync_api import expect

from servicebook.finance.billing.models import Invoice, Statement


def test_finance_closes_a_month_and_customers_see_their_documents(page, login, shot):
    login("finance")
    page.goto("/finance/")
    expect(page.get_by_test_id("periods")).to_contain_text("2026-10")
    page.fill("#id_period", "2026-08")
    page.click("[data-testid=close-form] button[type=submit]")
    # the dry run first: what the close would issue, customer by customer, then the confirmation
    expect(page.get_by_test_id("close-documents")).to_contain_text("SkyBridge Airlines")
    expect(page.get_by_test_id("close-earlier")).to_contain_text("2026-10 is already closed")
    shot("close-preview")
    page.get_by_role("button", name="Confirm: close 2026-08").click()
    expect(page.get_by_text("Say why the earlier month is closed now.")).to_be_visible()
    page.get_by_label("I confirm closing this month").check()
    page.get_by_label("Why close it now").fill("August was held back for a contract dispute")
    page.get_by_role("button", name="Confirm: close 2026-08").click()
    expect(page.get_by_test_id("job-state")).to_have_text("Succeeded")  # a background job
    expect(page.get_by_test_id("job-summary")).to_contain_text("closed 2026-08")
    shot("closed")
    page.goto("/finance/reports/?period=2026-10")
    expect(page.get_by_test_id("report-funding")).to_contain_text("Marketing")
    expect(page.locator("canvas[data-chart]")).to_have_count(4)
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every(c => c.width > 0)"
    )
    shot("reports")
    page.goto("/finance/ledger/")
    expect(page.get_by_test_id("ledger-verify")).to_contain_text("Ledger verified")

    login("external")
    airline = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    page.goto(f"/finance/invoices/{airline.pk}/")
    expect(page.get_by_test_id("cash-part")).to_have_text("EUR 14,013.32")
    expect(page.get_by_test_id("in-kind-part")).to_have_text("EUR 7,006.68")
    expect(page.get_by_test_id("in-kind-line")).to_contain_text("tickets")
    body = page.locator("body").inner_text()
    assert not re.search(r"\bcost\b|\bmargin\b", body, re.IGNORECASE), body
    shot("airline-invoice")
    marketing = Statement.objects.get(period="2026-10", customer__code="marketing")
    assert page.goto(f"/finance/statements/{marketing.pk}/").status == 404

    login("internal")
    page.goto(f"/finance/statements/{marketing.pk}/")
    expect(page.get_by_test_id("statement-cost")).to_contain_text("EUR")
    expect(page.get_by_test_id("funding-model")).to_contain_text("Chargeback")
    shot("internal-statement")
