"""Tax and legal invoices (decision 0026): VAT regimes and rates, the refusal of a missing rate,
VAT numbers and bank details checked where entered, gapless invoice numbers, what the invoice
carries on its page, PDF and API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicebook.core.errors import DomainError
from servicebook.finance.billing import numbering, services, tax
from servicebook.finance.billing.legal_models import TaxRate
from servicebook.finance.billing.models import Invoice, Statement
from servicebook.finance.ledger.models import JournalLine, Period
from servicebook.parties import provider as provider_settings
from servicebook.parties import services as parties
from servicebook.parties.models import Provider
from servicebook.policy import policy_for

pytestmark = pytest.mark.django_db
FREE = "2026-08"
LATE = "held back for the tax test"


def test_domestic_sale_is_taxed_at_the_home_rate_and_vat_posted_to_its_own_account():
    airline = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    assert airline.tax_regime == "domestic" and airline.issuer_country == "FR"
    assert airline.taxes == [
        {"category": "S", "rate": "20.00", "base": "21020.00", "tax": "4204.00"}
    ]
    assert {line.tax_category for line in airline.lines.exclude(kind="in_kind")} == {"S"}
    vat = JournalLine.objects.get(entry=airline.entry, account__purpose="vat_payable")
    assert vat.credit == D("4204.00") and vat.account.code == "2200"


def test_eu_business_in_another_member_state_is_invoiced_under_the_reverse_charge():
    retail = Invoice.objects.get(period="2026-10", customer__code="meridian")
    assert retail.customer_vat_number == "DE136695976"
    assert retail.tax_regime == "reverse_charge" and retail.tax_amount == 0
    assert tax.REVERSE_CHARGE_MENTION in retail.legal_mentions
    assert "Article 196 Council Directive 2006/112/EC" in retail.legal_mentions
    assert {t["category"] for t in retail.taxes} == {"AE"}
    assert not JournalLine.objects.filter(entry=retail.entry, account__purpose="vat_payable")


def test_business_outside_the_eu_is_outside_the_scope_of_eu_vat():
    pacific = Invoice.objects.get(period="2026-10", customer__code="pacific")
    assert pacific.tax_regime == "outside_scope" and pacific.tax_amount == 0
    assert "Article 44" in pacific.legal_mentions


def test_internal_statements_carry_no_tax():
    assert not policy_for("internal").charges_tax and policy_for("external").charges_tax
    statements = Statement.objects.filter(period="2026-10").values_list("entry", flat=True)
    assert (
        statements
        and not JournalLine.objects.filter(
            entry__in=[e for e in statements if e], account__purpose="vat_payable"
        ).exists()
    )


def test_a_missing_rate_refuses_the_close_naming_jurisdiction_kind_and_date(users):
    TaxRate.objects.filter(jurisdiction="FR", kind="standard").delete()
    with pytest.raises(DomainError, match=r"no standard VAT rate of FR is valid on 2026-08-31"):
        services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    assert not Invoice.objects.filter(period=FREE).exists()
    assert not Period.objects.filter(period=FREE, status="closed").exists()


def test_a_rate_valid_for_the_supply_date_is_the_one_used(users):
    TaxRate.objects.filter(jurisdiction="FR", kind="standard").update(
        valid_from=dt.date(2026, 9, 1)
    )
    tax.save_tax_rate(
        actor=users["finance"],
        jurisdiction="FR",
        kind="standard",
        rate=D("19.60"),
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2026, 8, 31),
    )
    services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    airline = Invoice.objects.get(period=FREE, customer__code="skybridge")
    assert airline.taxes[0]["rate"] == "19.60"


def test_overlapping_rates_are_refused_on_the_field(users):
    with pytest.raises(ValidationError) as refused:
        tax.save_tax_rate(
            actor=users["finance"],
            jurisdiction="FR",
            kind="standard",
            rate=D("21"),
            valid_from=dt.date(2026, 1, 1),
        )
    assert "valid_from" in refused.value.message_dict


def test_an_invalid_vat_number_is_refused_where_it_is_entered_naming_the_field(users):
    with pytest.raises(ValidationError) as refused:
        parties.create_customer(
            actor=users["manager"],
            provider=Provider.current(),
            kind="external",
            code="acme",
            name="Acme",
            legal_name="Acme GmbH",
            jurisdiction="DE",
            currency="EUR",
            payment_terms_days=30,
            vat_number="DE123456780",
        )
    assert "vat_number" in refused.value.message_dict
    assert "not a valid VAT number" in refused.value.message_dict["vat_number"][0]


def test_an_invalid_iban_or_bic_is_refused_in_the_provider_settings(users):
    for field, value in (("iban", "FR7630006000011234567890188"), ("bic", "BNP")):
        with pytest.raises(ValidationError) as refused:
            provider_settings.update_provider_settings(actor=users["admin"], **{field: value})
        assert field in refused.value.message_dict


def test_api_refuses_a_bad_vat_number_naming_the_field(users, client_for):
    customer = parties_customer("meridian")
    response = client_for(users["manager"]).patch(
        f"/api/customers/{customer.pk}/", {"vat_number": "DE000"}, format="json"
    )
    assert response.status_code == 400 and "vat_number" in response.json()


def parties_customer(code):
    from servicebook.parties.models import Customer

    return Customer.objects.get(code=code)


def test_invoice_numbers_are_gapless_per_series_and_year(users):
    numbers = list(
        Invoice.objects.filter(fiscal_year=2026)
        .order_by("sequence")
        .values_list("sequence", "number")
    )
    assert [s for s, _ in numbers] == list(range(1, len(numbers) + 1))
    assert numbers[0][1] == "INV-2026-00001"
    # a refused close gives its numbers back: the next close continues the series
    TaxRate.objects.filter(jurisdiction="FR", kind="standard").delete()
    with pytest.raises(DomainError):
        services.close_period(actor=users["finance"], period=FREE, earlier_reason=LATE)
    tax.seed_rates("FR", valid_from=dt.date(2020, 1, 1)) or tax.save_tax_rate(
        actor=users["finance"],
        jurisdiction="FR",
        kind="standard",
        rate=D("20"),
        valid_from=dt.date(2020, 1, 1),
    )
    services.close_period(
        actor=users["finance"], period=FREE, earlier_reason=LATE, today=dt.date(2026, 12, 1)
    )
    new = sorted(Invoice.objects.filter(period=FREE).values_list("sequence", flat=True))
    assert new == list(range(len(numbers) + 1, len(numbers) + 1 + len(new)))


def test_number_format():
    assert numbering.format_number("CN", 2026, 7) == "CN-2026-00007"


def test_invoice_page_pdf_and_api_show_what_the_law_asks(users, web_for, client_for):
    airline = Invoice.objects.get(period="2026-10", customer__code="skybridge")
    page = web_for(users["external"]).get(reverse("finance:invoice", args=[airline.pk]))
    text = page.content.decode()
    for expected in (
        "Northwind Group IT Services SAS",
        "FR40303265045",
        "FR96552100554",
        "RCS Paris 303 265 045",
        "FR7630006000011234567890189",
        "BNPAFRPPXXX",
        "INV-2026-",
        "Total including tax",
        "EUR 25,224.00",
    ):
        assert expected in text, expected
    data = client_for(users["external"]).get(f"/api/invoices/{airline.pk}/").json()
    assert data["issuer_vat_number"] == "FR40303265045" and data["tax_amount"] == "4204.00"
    assert data["supply_start"] == "2026-10-01" and data["supply_end"] == "2026-10-31"
    assert data["lines"][0]["tax_category"] == "S"
    pdf = web_for(users["finance"]).get(reverse("finance:invoice-pdf", args=[airline.pk]))
    assert pdf.content.startswith(b"%PDF")
