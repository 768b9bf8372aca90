"""From the issued documents to the e-invoice: an :class:`~.Invoice` or a
:class:`~.CreditNote`, with the legal fields they were issued with (decision 0026), becomes an
:class:`~.document.EInvoice` (decision 0027).

- Subscription and usage lines are lines; a tiered charge whose amount is not quantity × one
  price is its amount per its whole quantity (price base quantity, BT-149).
- Service-credit lines (negative) become document-level allowances at their line's VAT rate.
- In-kind lines are not sold items: their total is the paid amount (BT-113), their text a note.
- The stored VAT per rate must equal what EN 16931 computes from the lines (BR-CO-17); a
  difference is refused rather than written, so the XML and the printed invoice agree.
- A party's electronic address (BT-34/BT-49) is its VAT number under its country's Peppol scheme;
  without one, a US employer identification number (EAS 9959) or a Singapore UEN (EAS 0195)
  registration number, checked with python-stdnum.
- A reduced rate (stored as UNCL 5305 "AA") is category S at its rate: EN 16931 has no AA.
- An invoice in another currency than the issuer's national one states its VAT in that
  currency too (BT-6, BT-111), at the ECB reference rate of the issue date unless one is given.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from servicebook.finance.billing.einvoice.document import (
    EU_VAT_CURRENCY,
    VAT_EAS,
    Address,
    Allowance,
    DocumentType,
    EInvoice,
    EInvoiceError,
    Line,
    Party,
    VatCategory,
    money,
)

ZERO = Decimal("0.00")

#: Servicebook's units (catalog.Unit) as UN/ECE Recommendation 20 codes: the time a unit bills
#: (MON month, HUR hour), E34 gigabyte for GB-month, C62 "one" for counted items.
UNIT_CODES = {
    "user_month": "MON",
    "device_month": "MON",
    "licence_month": "MON",
    "month": "MON",
    "vm_hour": "HUR",
    "hour": "HUR",
    "gb_month": "E34",
    "ticket": "C62",
    "api_call": "C62",
}
CATEGORY = {"S": VatCategory.STANDARD, "AA": VatCategory.STANDARD}
CATEGORY |= {c.value: c for c in VatCategory}
EXEMPTION_CODE = "VATEX-EU-132"  # exempt activities in the public interest, Article 132
POSTCODE_CITY = re.compile(  # "75008 Paris", "D-40212 Düsseldorf", "3072 AP Rotterdam" (Dutch)
    r"^(?P<postcode>\d{4} ?[A-Z]{2}(?=\s)|[A-Z]{0,2}-?\d[\dA-Z -]{1,9}?)\s+(?P<city>\D.*)$"
)
#: the other order: "Los Angeles, CA 90028" (city, state, ZIP) or "Singapore 048616"
CITY_POSTCODE = re.compile(
    r"^(?P<city>\D+?),?\s+(?:(?P<subdivision>[A-Z]{2})\s+)?(?P<postcode>\d[\d-]{3,9})$"
)
#: at most this many days between the issue date and the ECB rate used
RATE_STALE_DAYS = 7


def parse_address(text: str, country: str) -> Address:
    """A printed address (lines) as EN 16931 fields: first line the street, the line that
    starts with a postcode gives postcode and city, lines between are additional."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    street, additional, postcode, city, subdivision = "", [], "", "", ""
    for n, line in enumerate(lines):
        match = POSTCODE_CITY.match(line) or CITY_POSTCODE.match(line)
        if match and n > 0:
            postcode, city = match["postcode"].strip(), match["city"].strip()
            subdivision = match.groupdict().get("subdivision") or ""
            break
        if n == 0:
            street = line
        else:
            additional.append(line)
    else:
        if len(lines) > 1 and not city:  # no postcode line: the last line is the city
            city = additional.pop() if additional else ""
    return Address(
        country=country,
        street=street,
        additional=", ".join(additional),
        city=city,
        postcode=postcode,
        subdivision=f"{country}-{subdivision}" if subdivision else "",
    )


def registration_endpoint(country: str, registration: str) -> tuple[str, str] | None:
    """The Peppol electronic address of a registration number, where the country's number is a
    Peppol scheme: a US EIN (9959) or a Singapore UEN (0195, written SGUEN…); else None."""
    from stdnum.sg import uen
    from stdnum.us import ein

    number = re.sub(r"^(EIN|UEN)\s*", "", (registration or "").strip(), flags=re.I)
    if country == "US" and ein.is_valid(number):
        return "9959", ein.compact(number)
    if country == "SG" and uen.is_valid(number):
        return "0195", "SGUEN" + uen.compact(number)
    return None


def _party(name, address, country, vat, registration, *, not_subject: bool) -> Party:
    if not country:
        raise EInvoiceError(f"{name}: the country is unknown (BT-40/BT-55)")
    endpoint = None
    if vat and not_subject:  # BR-O-02: no VAT number shown, the address still is one
        endpoint = (VAT_EAS.get(vat[:2].upper(), ""), vat) if vat[:2].upper() in VAT_EAS else None
    if not vat:
        endpoint = registration_endpoint(country, registration)
    return Party(
        name=name,
        address=parse_address(address, country),
        vat_id="" if not_subject else vat,
        registration_id=registration,
        endpoint=endpoint,
    )


def vat_rate_for(currency: str, national: str, on: dt.date) -> Decimal:
    """The ECB reference rate ``currency`` → ``national`` on ``on`` (or the last one before,
    at most a week old): what Article 91(2) of the VAT Directive allows."""
    from currency_converter import CurrencyConverter, RateNotFoundError

    converter = CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=False)
    for back in range(RATE_STALE_DAYS + 1):
        day = on - dt.timedelta(days=back)
        try:
            rate = converter.convert(1, currency, national, date=day)
        except (RateNotFoundError, ValueError):
            continue
        return Decimal(str(rate)).quantize(Decimal("0.000001"))
    raise EInvoiceError(
        f"vat_currency: no ECB {currency}/{national} rate within {RATE_STALE_DAYS} days before "
        f"{on:%Y-%m-%d} on this machine: give the rate (--vat-rate, ?vat_rate=)"
    )


def _vat_currency(currency: str, country: str, vat: str, on: dt.date, rate) -> dict:
    national = EU_VAT_CURRENCY.get(country)
    if not national or currency == national or not vat:
        return {}
    if rate is None:
        rate = vat_rate_for(currency, national, on)
    return {"vat_currency": national, "vat_exchange_rate": Decimal(rate)}


def _exemptions(mentions: str) -> dict[VatCategory, tuple[str, str]]:
    exempt = next((m for m in mentions.splitlines() if "xempt" in m), "")
    return {VatCategory.EXEMPT: (EXEMPTION_CODE, exempt or "Exempt from VAT")}


def _check_tax(doc: EInvoice, stored: Decimal, what: str) -> EInvoice:
    if doc.totals.tax != stored:
        raise EInvoiceError(
            f"{what}: its VAT {stored} differs from EN 16931's per-rate rounding of its lines "
            f"({doc.totals.tax}); correct the invoice before sending it electronically"
        )
    return doc


def invoice_document(invoice, *, vat_exchange_rate=None) -> EInvoice:
    """The e-invoice of an issued invoice."""
    not_subject = invoice.tax_regime == "outside_scope"
    lines, allowances, in_kind = [], [], []
    for row in invoice.lines.select_related("offering").order_by("pk"):
        if row.kind == "in_kind":
            in_kind.append(f"{row.description} ({money(row.amount)} {invoice.currency})")
            continue
        category = CATEGORY.get(row.tax_category or "", None)
        if category is None:
            raise EInvoiceError(f"{invoice.number}: line {row.description!r} has no VAT category")
        rate = Decimal(row.tax_rate or 0)
        if row.kind == "credit":
            allowances.append(Allowance(-row.amount, row.description, category, rate))
            continue
        unit = UNIT_CODES.get(row.offering.unit if row.offering else "", "C62")
        quantity, price, base = Decimal(row.quantity), Decimal(row.unit_price), Decimal(1)
        if money(quantity * price) != row.amount:  # tiered: the amount for the whole quantity
            price, base = row.amount, quantity
            if quantity <= 0:
                quantity, base, unit = Decimal(1), Decimal(1), "C62"
        lines.append(
            Line(str(len(lines) + 1), row.description, quantity, unit, price, category, rate,
                 base_quantity=base, net_amount=row.amount)
        )  # fmt: skip
    country = invoice.issuer_country
    note = " ".join(m for m in invoice.legal_mentions.splitlines() if m.strip())
    if in_kind:
        note = (note + " In kind: " + "; ".join(in_kind) + ".").strip()
    terms = f"Payment within {invoice.payment_terms_days or (invoice.due_date - invoice.issue_date).days} days, by {invoice.due_date:%Y-%m-%d}."  # noqa: E501
    doc = EInvoice(
        type=DocumentType.INVOICE,
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        seller=_party(invoice.issuer_legal_name, invoice.issuer_address, country,
                      invoice.issuer_vat_number, invoice.issuer_registration,
                      not_subject=not_subject),
        buyer=_party(invoice.customer_legal_name or invoice.customer.name,
                     invoice.customer_address,
                     invoice.customer_country or invoice.customer.jurisdiction,
                     invoice.customer_vat_number, invoice.customer_registration,
                     not_subject=not_subject),
        currency=invoice.currency,
        lines=tuple(lines),
        allowances=tuple(allowances),
        buyer_reference=invoice.agreement.reference,
        supply_start=invoice.supply_start,
        supply_end=invoice.supply_end,
        note=note,
        payment_terms=terms,
        iban=invoice.issuer_iban,
        bic=invoice.issuer_bic,
        account_name=invoice.issuer_legal_name,
        payment_reference=invoice.number,
        in_kind_amount=invoice.in_kind_amount,
        exemption_reasons=_exemptions(invoice.legal_mentions),
        **_vat_currency(invoice.currency, country, "" if not_subject else
                        invoice.issuer_vat_number, invoice.issue_date, vat_exchange_rate),
    )  # fmt: skip
    return _check_tax(doc, invoice.tax_amount, invoice.number)


def credit_note_document(note, *, vat_exchange_rate=None) -> EInvoice:
    """The e-invoice of a credit note: one line per VAT rate it credits, with its reason."""
    invoice = note.invoice
    original = invoice_document(invoice, vat_exchange_rate=vat_exchange_rate)
    rows = note.taxes or [{"category": "O", "rate": "0", "base": str(note.net_amount)}]
    if not note.taxes and invoice.taxes:
        rows = [{**invoice.taxes[0], "base": str(note.net_amount)}]
    lines = tuple(
        Line(str(n), f"Credit on invoice {invoice.number}: {note.reason}"[:200], Decimal(1),
             "C62", Decimal(row["base"]), CATEGORY[row["category"]], Decimal(row["rate"]))
        for n, row in enumerate(rows, start=1)
        if Decimal(row["base"])
    )  # fmt: skip
    doc = EInvoice(
        type=DocumentType.CREDIT_NOTE,
        number=note.number,
        issue_date=note.issue_date,
        seller=original.seller,
        buyer=original.buyer,
        currency=note.currency,
        lines=lines,
        buyer_reference=original.buyer_reference,
        supply_start=original.supply_start,
        supply_end=original.supply_end,
        note=note.reason,
        payment_terms="Deducted from what the invoice asks, or refunded.",
        preceding_invoice=invoice.number,
        preceding_issue_date=invoice.issue_date,
        exemption_reasons=original.exemption_reasons,
        vat_currency=original.vat_currency,
        vat_exchange_rate=original.vat_exchange_rate,
    )
    return _check_tax(doc, note.tax_amount, note.number)
