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
    page.get_by_test_id("verify-now").click()  # the whole-ledger check runs as a job
    expect(page.get_by_test_id("job-state")).to_have_text("Succeeded")
    page.goto("/finance/ledger/")
    expect(page.get_by_test_id("ledger-verify")).to_contain_text("Ledger verified")

    login("external")
    airline = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    page.goto(f"/finance/invoices/{airline.pk}/")
    expect(page.get_by_test_id("cash-part")).to_have_text(
        "EUR 18,217.32"
    )  # 20 % French VAT included
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


def test_finance_issues_a_partial_credit_note_and_the_customer_sees_it(page, login, shot):
    """From the invoice page: too much is refused on the field, a part is credited with its VAT
    (20 % for the French airline), posted, downloadable as UBL, and shown to the customer."""
    invoice = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    issued = invoice.credit_notes.count()  # the demo credited one consulting day already
    login("finance")
    page.goto(f"/finance/invoices/{invoice.pk}/")
    form = page.get_by_test_id("credit-note-form")
    form.get_by_label("Amount credited").fill("99999")
    form.get_by_label("Reason").fill("Outage of 12 October: two days of check-in kiosks down")
    form.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_text("exceeds what remains creditable")).to_be_visible()  # on the form
    assert invoice.credit_notes.count() == issued  # nothing issued
    page.goto(f"/finance/invoices/{invoice.pk}/")
    form = page.get_by_test_id("credit-note-form")
    form.get_by_label("Amount credited").fill("100")
    form.get_by_label("Reason").fill("Outage of 12 October: two days of check-in kiosks down")
    form.get_by_role("button", name="Issue credit note").click()
    note = invoice.credit_notes.order_by("-number").first()
    assert invoice.credit_notes.count() == issued + 1 and note.total == 120
    expect(page.get_by_text(f"Issued {note.number}: EUR 120.00 credited.")).to_be_visible()
    expect(page.get_by_test_id("credited")).to_contain_text("1,200.00")  # 1,080 + 120
    page.get_by_test_id("credit-notes").get_by_role("link", name=note.number).click()
    expect(page.get_by_test_id("credit-note-total")).to_contain_text("120.00")
    expect(page.get_by_text(f"Posting {note.entry.number}")).to_be_visible()
    shot("credit-note")
    with page.expect_download() as download:
        page.get_by_role("link", name="UBL (Peppol)").click()
    assert download.value.suggested_filename.endswith(".xml")

    login("external")
    page.goto(f"/finance/invoices/{invoice.pk}/")
    expect(page.get_by_test_id("credit-notes")).to_contain_text(note.number)
    page.get_by_test_id("credit-notes").get_by_role("link", name=note.number).click()
    expect(page.get_by_test_id("credit-note-total")).to_contain_text("120.00")
    body = page.locator("body").inner_text()
    assert not re.search(r"\bcost\b|\bmargin\b", body, re.IGNORECASE), body
