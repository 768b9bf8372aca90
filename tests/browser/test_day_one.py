"""Issue 18, done when: a provider starts from an empty database with `servicebook init`, loads its
master data from the sample CSV files, sets up a business calendar and a contract with its
targets and credit tiers, imports its tickets and closes the month, all from the pages: no Django
admin and no API call on the way (every request the browser makes is checked for that)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from servicebook import cli
from servicebook.finance.billing.models import Invoice
from tests.browser.conftest import SCREENSHOTS

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
PASSWORD = "a long pass phrase 42"

TICKETS = (
    "number,short_description,priority,opened_at,responded_at,resolved_at\n"
    "LIB-1,Catalogue search down,1,2026-10-05T09:00+02:00,2026-10-05T09:20+02:00,"
    "2026-10-05T17:00+02:00\n"
    "LIB-2,Kiosk frozen,1,2026-10-12T10:00+02:00,2026-10-12T10:05+02:00,2026-10-12T11:00+02:00\n"
)


def init_provider(tmp_path) -> None:
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    code = cli.main(
        [
            "init",
            "--no-input",
            "--provider",
            "Acme IT Services",
            "--sector",
            "commercial",
            "--currency",
            "EUR",
            "--country",
            "FR",
            "--admin-user",
            "ada",
            "--admin-email",
            "ada@example.org",
            "--admin-password-file",
            str(password),
        ]
    )
    assert code == 0


def sign_in(page) -> None:
    page.goto("/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")


def load_master_data(page) -> None:
    for kind in ("customers", "contacts", "services", "offerings"):
        page.goto("/import/")
        page.select_option("#id_kind", kind)
        page.set_input_files("#id_file", str(SAMPLES / f"{kind}.csv"))
        page.click("button:has-text('Load')")
        expect(page.get_by_test_id("count-rejected")).to_have_text("0")
        assert int(page.get_by_test_id("count-created").inner_text()) > 0


def create_calendar(page) -> None:
    page.goto("/agreements/calendars/")
    page.click("text=New calendar")
    page.fill("#id_name", "Paris office hours")
    page.select_option("#id_time_zone", "Europe/Paris")
    page.select_option("#id_holiday_country", "FR")
    for day in range(5):
        page.fill(f"#id_day{day}_start", "08:00")
        page.fill(f"#id_day{day}_end", "18:00")
    page.fill("#id_own_dates", "2026-12-24 Christmas Eve")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("Paris office hours")
    expect(page.locator("body")).to_contain_text("Christmas")  # the 14-day preview or the dates


def activate_customer(page) -> None:
    page.goto("/customers/")
    page.click("text=City Library Network")
    page.click("text=Start due diligence")
    for check in ("identity", "authority", "legality", "jurisdiction", "financial"):
        page.click("text=Record a check")
        page.select_option("#id_check_type", check)
        page.select_option("#id_outcome", "passed")
        page.fill("#id_evidence", f"{check}: documents reviewed")
        page.click("button[type=submit]")
    page.click("button:has-text('Conclude')")
    page.click("text=Change status")
    page.select_option("#id_to_status", "active")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("customer-status")).to_have_text("Active")


def create_contract(page) -> None:
    page.goto("/agreements/new/")
    page.select_option("#id_customer", label="City Library Network")
    page.fill("#id_reference", "CT-LIB-2026")
    page.fill("#id_title", "Hosting for the library network")
    page.fill("#id_start_date", "2026-10-01")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("CT-LIB-2026")
    page.select_option("#id_offering", label="Managed Hosting: Storage")
    page.fill("#id_quantity", "1000")
    page.click("form[action$='/lines/new/'] button[type=submit]")
    page.get_by_test_id("add-target").click()
    page.select_option("#id_metric", "resolution_time")
    page.select_option("#id_priority", "1")
    page.fill("#id_threshold_minutes", "240")
    page.fill("#id_attainment_percent", "95")
    page.select_option("#id_calendar", label="Paris office hours")
    page.click("button[type=submit]")
    page.get_by_test_id("set-credit-tiers").first.click()
    page.fill("#id_tiers-0-below_percent", "95")
    page.fill("#id_tiers-0-credit_percent", "5")
    page.fill("#id_tiers-1-below_percent", "80")
    page.fill("#id_tiers-1-credit_percent", "10")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("targets")).to_contain_text("5.00% credit")
    page.click("text=Record signature")
    page.select_option("#id_contact", label="Paul Girard (City Library Network)")
    page.click("button[type=submit]")
    # the hosting service keeps data in Germany too: the library acknowledges it in writing
    expect(page.get_by_test_id("blockers")).to_contain_text("acknowledgement is needed")
    page.click("text=Record acknowledgement")
    page.select_option("#id_service", label="Managed Hosting")
    page.select_option("#id_contact", label="Paul Girard (City Library Network)")
    page.fill("#id_statement", "We accept that backups of our catalogue are kept in Germany.")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("blockers")).to_have_count(0)
    page.select_option("select[name=to_status]", "active")
    page.click("button:has-text('Change status')")
    expect(page.locator("body")).to_contain_text("Active")


def import_tickets(page, tmp_path) -> None:
    tickets = tmp_path / "library-tickets.csv"
    tickets.write_text(TICKETS)
    page.goto("/service-levels/import/")
    page.select_option("#id_format", "csv")
    page.select_option("#id_agreement", label="CT-LIB-2026 (City Library Network)")
    page.set_input_files("#id_file", str(tickets))
    page.click("button[type=submit]")
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "succeeded")
    summary = page.get_by_test_id("job-summary").inner_text().lower()
    assert "imported" in summary and "rejected" in summary, summary


def close_october(page) -> None:
    page.goto("/finance/close/")
    page.fill("#id_period", "2026-10")
    page.click("button:has-text('Preview the close')")
    expect(page.get_by_test_id("close-documents")).to_contain_text("City Library Network")
    page.click("button:has-text('Confirm: close 2026-10')")
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-status", "succeeded")


def test_a_provider_starts_from_an_empty_database(empty_page, tmp_path):
    page = empty_page
    refused = []
    page.on(
        "request",
        lambda request: (
            request.url.split("/", 3)[-1].startswith(("admin/", "api/"))
            and refused.append(request.url)
        ),
    )
    init_provider(tmp_path)
    sign_in(page)
    load_master_data(page)
    create_calendar(page)
    activate_customer(page)
    create_contract(page)
    import_tickets(page, tmp_path)
    close_october(page)
    invoice = Invoice.objects.get(customer__code="city-library", period="2026-10")
    page.goto(f"/finance/invoices/{invoice.pk}/")
    expect(page.locator("body")).to_contain_text("Managed Hosting — Storage")
    # one of the two tickets took 8 business hours against 4: 50 % attained, the 10 % tier
    expect(page.locator("body")).to_contain_text("50.000% attained, 10.00% credit")
    page.screenshot(path=SCREENSHOTS / "day-one-invoice.png", full_page=True)
    assert refused == [], f"the Django admin or the API was used: {refused}"
