"""An e-invoice a receiving platform would reject is refused when it is built, with the field
and the rule named."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from servicebook.finance.billing.einvoice import Allowance, EInvoiceError, Line, VatCategory
from tests.finance.billing.einvoice.cases import CASES, GERMAN_BUYER


def _refused(case: str, match: str, **changes):
    doc = CASES[case]()
    with pytest.raises(EInvoiceError, match=match):
        replace(doc, **changes)


def test_reverse_charge_needs_the_buyers_vat_number():
    _refused(
        "reverse_charge",
        r"buyer.vat_id: reverse charge needs the buyer's VAT number \(BR-AE-02\)",
        buyer=replace(GERMAN_BUYER, vat_id="", endpoint=("0088", "4000001000005")),
    )


def test_foreign_currency_needs_the_vat_in_national_currency():
    _refused("usd", r"vat_currency: an invoice in USD from a seller in FR", vat_currency="")
    _refused("usd", r"R005", vat_currency="USD")


def test_credits_may_not_exceed_the_charges_at_a_rate():
    big = Allowance(D("99999"), "Service credit", VatCategory.STANDARD, D("20"))
    _refused("credit_and_in_kind", r"credits exceed the charges at S 20", allowances=(big,))


def test_in_kind_part_is_within_the_total():
    _refused("credit_and_in_kind", r"in_kind_amount", in_kind_amount=D("999999"))


def test_exempt_lines_need_a_reason():
    line = Line("1", "Training", D("1"), "C62", D("100"), VatCategory.EXEMPT, D("0"))
    _refused("domestic", r"BR-E-10", lines=(line,))


def test_negative_price_is_refused_in_favour_of_an_allowance():
    line = Line("1", "Credit", D("1"), "C62", D("-10"), VatCategory.STANDARD, D("20"))
    _refused(
        "domestic", r"line 1 \('Credit'\): the item net price may not be negative", lines=(line,)
    )


def test_bad_unit_iban_vat_and_missing_reference():
    line = Line("1", "Hosting", D("1"), "hours", D("10"), VatCategory.STANDARD, D("20"))
    _refused("domestic", r"unit 'hours' is not a UN/ECE Rec 20 code", lines=(line,))
    _refused("domestic", r"iban: 'FR76 0000' is not a valid IBAN", iban="FR76 0000")
    buyer = replace(CASES["domestic"]().buyer, vat_id="FR00552081317")
    _refused("domestic", r"buyer.vat_id: 'FR00552081317' is not a valid VAT number", buyer=buyer)
    _refused("partial_credit_note", r"names the invoice it corrects", preceding_invoice="")
    _refused(
        "domestic",
        r"standard rate|rate above 0",
        lines=(Line("1", "Hosting", D("1"), "HUR", D("10"), VatCategory.STANDARD, D("0")),),
    )


def test_given_net_amount_must_be_quantity_times_price():
    line = Line("1", "Hosting", D("3"), "HUR", D("10"), VatCategory.STANDARD, D("20"),
                net_amount=D("31.00"))  # fmt: skip
    _refused("domestic", r"net amount 31.00 is not quantity × price = 30.00", lines=(line,))
