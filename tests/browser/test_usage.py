"""Usage at scale in a real browser: finance imports a FOCUS cloud bill and reads its allocation
report (the parts add up to the bill), and an internal customer finds its share of the demo's
cloud bill, and its metered usage, on its October statement."""

from playwright.sync_api import expect

from servicebook.finance.billing.models import Statement
from servicebook.finance.usage.models import UsageImport
from tests.finance.usage.helpers import SMALL_SAMPLE, replay


def test_finance_imports_a_focus_bill_and_internal_sees_cloud_cost(
    page, login, shot, tmp_path, settings
):
    settings.SERVICEBOOK_USAGE_DIR = tmp_path / "usage"
    bill = replay(SMALL_SAMPLE, tmp_path / "june-bill.csv", "2026-06")
    login("finance")
    page.goto("/finance/usage/")
    expect(page.get_by_test_id("usage-imports")).to_contain_text("focus-2026-10.csv")
    page.set_input_files("#id_file", str(bill))
    page.select_option("#id_format", "focus")
    page.select_option("#id_cost_basis", "BilledCost")
    page.select_option("#id_shared_mode", "spread")
    page.fill("#id_exchange_rate", "0.92")
    page.click("[data-testid=usage-import-form] button")
    expect(page.get_by_test_id("job-state")).to_have_text("Succeeded")  # a background job
    page.click("[data-testid=job-result-link]")
    expect(page.get_by_test_id("rows-imported")).to_have_text("100")
    expect(page.get_by_test_id("billed-total")).to_contain_text("USD 1.0598035934")
    expect(page.get_by_test_id("file-total")).to_have_text("1.0598035934")
    expect(page.get_by_test_id("adds-up")).to_be_visible()
    shot("import")
    demo_bill = UsageImport.objects.get(filename="focus-2026-10.csv")
    page.goto(f"/finance/usage/{demo_bill.pk}/")
    october = page.get_by_test_id("allocation-2026-10")
    expect(october).to_contain_text("R&D Lab")
    expect(october.get_by_test_id("adds-up")).to_be_visible()
    shot("allocation")

    login("internal")
    marketing = Statement.objects.get(period="2026-10", customer__code="marketing")
    page.goto(f"/finance/statements/{marketing.pk}/")
    lines = page.get_by_test_id("statement-lines")
    expect(lines).to_contain_text("Public Cloud (FinOps)")
    expect(page.get_by_test_id("cloud-line")).to_be_visible()
    expect(lines).to_contain_text("Virtual machine (metered)")
    shot("statement")
    assert page.goto("/finance/usage/").status == 403
