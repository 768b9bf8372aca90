"""The checks an :class:`~.document.EInvoice` passes before it exists (a kernel, no Django).

Each refusal names the field and the EN 16931 or Peppol rule it would break, so a wrong invoice
never leaves as a file a receiving platform rejects later. The official Schematron rules run in
the tests (tests/finance/billing/einvoice); these are the ones a caller can get wrong.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from servicebook.core.money import minor_units

if TYPE_CHECKING:
    from servicebook.finance.billing.einvoice.document import EInvoice, Party

UNIT_CODE = re.compile(r"^[A-Z0-9]{2,3}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


def _fail(field: str, why: str) -> None:
    from servicebook.finance.billing.einvoice.document import EInvoiceError

    raise EInvoiceError(f"{field}: {why}")


def check_party(role: str, party: Party) -> None:
    if not party.name.strip():
        _fail(f"{role}.name", "the legal name is required (BT-27/BT-44)")
    if not COUNTRY.match(party.address.country or ""):
        _fail(f"{role}.address.country", "an ISO 3166-1 alpha-2 code is required (BT-40/BT-55)")
    if party.vat_id:
        prefix = party.vat_id[:2].upper()
        if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
            try:
                eu_vat.validate(party.vat_id)
            except ValidationError as error:
                _fail(f"{role}.vat_id", f"{party.vat_id!r} is not a valid VAT number ({error})")
        elif not re.match(r"^[A-Z]{2}", party.vat_id):
            _fail(f"{role}.vat_id", "a VAT number starts with its country prefix (BR-CO-9)")


def check_peppol_endpoints(doc: EInvoice) -> None:
    """Peppol (not EN 16931) needs both parties' electronic addresses (R010, R020)."""
    for role, party in (("seller", doc.seller), ("buyer", doc.buyer)):
        if party.electronic_address is None:
            _fail(
                f"{role}.endpoint",
                "Peppol needs an electronic address (R010/R020): give the party a VAT number "
                "or an endpoint (EAS scheme, identifier)",
            )


def _check_lines(doc: EInvoice) -> None:
    from servicebook.finance.billing.einvoice.document import EXEMPTED, VatCategory

    if not doc.lines:
        _fail("lines", "an invoice has at least one line (BR-16)")
    seen = set()
    for n, line in enumerate(doc.lines, start=1):
        where = f"line {n} ({line.name!r})"
        if line.id in seen:
            _fail(where, f"line id {line.id!r} is used twice (BR-21)")
        seen.add(line.id)
        if not line.name.strip():
            _fail(where, "the item name is required (BR-25)")
        if not UNIT_CODE.match(line.unit_code or ""):
            _fail(where, f"unit {line.unit_code!r} is not a UN/ECE Rec 20 code (e.g. C62, HUR)")
        if line.base_quantity <= 0:
            _fail(where, "the price base quantity is positive (R121)")
        if line.net_price < 0:
            _fail(where, "the item net price may not be negative (BR-27): use an allowance")
        if doc.is_credit_note and line.quantity < 0:
            _fail(where, "a credit note credits positive quantities")
        if line.net_amount is not None and Decimal(line.net_amount) != line.amount:
            _fail(where, f"net amount {line.net_amount} is not quantity × price = {line.amount}")
        _check_rate(where, line.vat_category, Decimal(line.vat_rate))
        if line.period_start and line.period_end and line.period_start > line.period_end:
            _fail(where, "the period ends before it starts (BR-30)")
        start, end = doc.supply_start, doc.supply_end
        days = [day for day in (line.period_start, line.period_end) if day]
        if start and end and any(not start <= day <= end for day in days):
            _fail(where, "the line period lies outside the invoice period (R110/R111)")
    categories = {line.vat_category for line in doc.lines}
    categories |= {a.vat_category for a in doc.allowances}
    if VatCategory.NOT_SUBJECT in categories and len(categories) > 1:
        _fail("lines", "'not subject to VAT' (O) cannot be mixed with other categories (BR-O-11)")
    for category in categories & EXEMPTED:
        if category is VatCategory.EXEMPT and category not in doc.exemption_reasons:
            _fail("exemption_reasons", "an exempt (E) line needs its exemption reason (BR-E-10)")


def _check_rate(where: str, category, rate: Decimal) -> None:
    from servicebook.finance.billing.einvoice.document import VatCategory

    if category is VatCategory.STANDARD:
        if rate <= 0:
            _fail(where, f"category {category.value} needs a rate above 0 (BR-S-05)")
    elif rate != 0:
        _fail(where, f"category {category.value} has a 0 % rate (BR-{category.value}-05)")


def _check_vat_ids(doc: EInvoice) -> None:
    from servicebook.finance.billing.einvoice.document import VatCategory

    categories = {line.vat_category for line in doc.lines}
    if VatCategory.NOT_SUBJECT in categories:
        if doc.seller.vat_id or doc.buyer.vat_id:
            _fail("vat_id", "an invoice not subject to VAT carries no VAT numbers (BR-O-02)")
        return
    if not doc.seller.vat_id:
        _fail("seller.vat_id", "the seller's VAT number is required (BR-S-02, BR-AE-02)")
    if VatCategory.REVERSE_CHARGE in categories and not doc.buyer.vat_id:
        _fail("buyer.vat_id", "reverse charge needs the buyer's VAT number (BR-AE-02)")


def _check_money(doc: EInvoice) -> None:
    from servicebook.finance.billing.einvoice.document import EU_VAT_CURRENCY

    try:
        minor_units(doc.currency)
    except ValueError as error:
        _fail("currency", str(error))
    for n, allowance in enumerate(doc.allowances, start=1):
        if allowance.amount <= 0:
            _fail(f"allowance {n}", "an allowance is a positive amount deducted")
        if not allowance.reason.strip():
            _fail(f"allowance {n}", "the reason is required (BR-33)")
        _check_rate(f"allowance {n}", allowance.vat_category, Decimal(allowance.vat_rate))
    for row in doc.vat_breakdown:
        if row.taxable < 0:
            _fail(
                "allowances",
                f"the credits exceed the charges at {row.category.value} {row.rate} %",
            )
    totals = doc.totals
    if not 0 <= doc.in_kind_amount <= totals.tax_inclusive:
        _fail("in_kind_amount", "the in-kind part lies between 0 and the total with VAT")
    national = EU_VAT_CURRENCY.get(doc.seller.address.country)
    if doc.vat_currency == doc.currency:
        _fail("vat_currency", "the VAT accounting currency differs from the invoice's (R005)")
    foreign = national and doc.currency != national and doc.seller.vat_id
    if foreign and (doc.vat_currency != national or not doc.vat_exchange_rate):
        _fail(
            "vat_currency",
            f"an invoice in {doc.currency} from a seller in {doc.seller.address.country} "
            f"states its VAT in {national} too (BT-6, BT-111): give vat_currency="
            f"{national!r} and vat_exchange_rate",
        )
    if doc.vat_exchange_rate is not None and doc.vat_exchange_rate <= 0:
        _fail("vat_exchange_rate", "the exchange rate is positive")


def _check_payment(doc: EInvoice) -> None:
    if doc.iban:
        try:
            stdnum_iban.validate(doc.iban)
        except ValidationError as error:
            _fail("iban", f"{doc.iban!r} is not a valid IBAN ({error})")
    elif doc.bic:
        _fail("iban", "a BIC without an IBAN says nowhere to pay")
    if doc.bic:
        try:
            stdnum_bic.validate(doc.bic)
        except ValidationError as error:
            _fail("bic", f"{doc.bic!r} is not a valid BIC ({error})")
    owed = not doc.is_credit_note and doc.totals.payable > 0
    if owed and not (doc.due_date or doc.payment_terms):
        _fail("payment_terms", "a due date or payment terms are required (BR-CO-25)")
    if doc.due_date and doc.due_date < doc.issue_date:
        _fail("due_date", "the due date is before the issue date")


def check_document(doc: EInvoice) -> None:
    """Refuse (``EInvoiceError``) a document that breaks a rule a caller can break."""
    if not doc.number.strip():
        _fail("number", "the document number is required (BT-1)")
    if not doc.buyer_reference.strip():
        _fail("buyer_reference", "a buyer reference is required (Peppol R003)")
    check_party("seller", doc.seller)
    check_party("buyer", doc.buyer)
    if doc.supply_start and doc.supply_end and doc.supply_start > doc.supply_end:
        _fail("supply_end", "the supply period ends before it starts (BR-29)")
    if doc.is_credit_note and not doc.preceding_invoice:
        _fail("preceding_invoice", "a credit note names the invoice it corrects (BG-3)")
    _check_lines(doc)
    _check_vat_ids(doc)
    _check_money(doc)
    _check_payment(doc)
