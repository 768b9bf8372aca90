"""Relationships in a real browser: the external user answers a survey and reads its contract;
a service manager runs due diligence and activates a customer and its contract."""

import datetime as dt
from decimal import Decimal as D

from playwright.sync_api import expect

from servicebook.agreements import services as agreements
from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Offering
from servicebook.parties import services as parties
from servicebook.parties.models import Customer, Provider


def test_external_user_answers_a_survey_and_reads_its_contract(page, login, shot):
    login("external")
    airline = Customer.objects.get(code="skybridge")
    page.goto(f"/customers/{airline.pk}/")
    page.click("text=Answer the satisfaction survey")
    page.select_option("#id_service", label="Cloud Hosting")
    page.fill("#id_period", "2026-11")
    page.select_option("#id_score", "5")
    page.fill("#id_comment", "Peak season went without a hitch.")
    page.click("button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("your answer was recorded")
    expect(page.get_by_test_id("satisfaction")).to_contain_text("Cloud Hosting")
    contract = Agreement.objects.get(reference="CT-SKY-2026")
    page.goto(f"/agreements/{contract.pk}/")
    expect(page.get_by_test_id("consideration")).to_contain_text("EUR 14,013.32")
    expect(page.get_by_test_id("consideration")).to_contain_text("Paris–New York return tickets")
    expect(page.get_by_test_id("consideration")).to_contain_text("EUR 7,006.68")
    expect(page.get_by_test_id("targets")).to_contain_text("below 99.500%: 5.00% credit")
    expect(page.locator("body")).not_to_contain_text("Margin")
    shot("contract")


def test_manager_runs_due_diligence_and_activates(page, login, shot):
    provider = Provider.current()
    customer = parties.create_customer(
        actor=None,
        provider=provider,
        kind="external",
        name="Nordlys Energy",
        code="nordlys",
        legal_name="Nordlys Energy AS",
        jurisdiction="FR",
        currency="EUR",
        payment_terms_days=30,
    )
    parties.create_contact(
        actor=None,
        customer=customer,
        name="Ingrid Berg",
        is_approver=True,
        authority_limit=D("100000"),
    )
    contract = agreements.create_agreement(
        actor=None,
        customer=customer,
        reference="CT-NOR-2027",
        title="Workplace",
        start_date=dt.date(2027, 1, 1),
    )
    agreements.add_line(
        actor=None, agreement=contract, offering=Offering.objects.get(code="laptop"), quantity=D(20)
    )
    login("manager")
    page.goto(f"/customers/{customer.pk}/")
    page.click("text=Start due diligence")
    expect(page.get_by_test_id("customer-status")).to_contain_text("Due diligence")
    for check in ("identity", "authority", "legality", "jurisdiction", "financial"):
        page.click("text=Record a check")
        page.select_option("#id_check_type", check)
        page.select_option("#id_outcome", "passed")
        page.fill("#id_evidence", f"{check}: documents reviewed")
        page.click("button[type=submit]")
    page.click("button:has-text('Conclude')")
    expect(page.get_by_test_id("due-diligence-panel")).to_contain_text("Due diligence completed")
    page.click("text=Change status")
    page.select_option("#id_to_status", "active")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("customer-status")).to_have_text("Active")
    page.goto(f"/agreements/{contract.pk}/")
    expect(page.get_by_test_id("blockers")).to_contain_text("not signed by an approver")
    page.click("text=Record signature")
    page.select_option("#id_contact", label="Ingrid Berg (Nordlys Energy)")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("blockers")).to_have_count(0)
    page.select_option("select[name=to_status]", "active")
    page.click("button:has-text('Change status')")
    expect(page.get_by_test_id("due-diligence")).to_contain_text("Due diligence completed")
    shot("activated")
