"""Five documents the tests write in every syntax: domestic standard VAT, EU reverse charge,
service credit with an in-kind part, a partial credit note, an invoice in US dollars."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

from servicebook.finance.billing.einvoice import (
    Address,
    Allowance,
    DocumentType,
    EInvoice,
    Line,
    Party,
    VatCategory,
)

S, AE = VatCategory.STANDARD, VatCategory.REVERSE_CHARGE

SELLER = Party(
    name="Northwind Services SAS",
    address=Address(country="FR", street="12 rue de la Paix", city="Paris", postcode="75002"),
    vat_id="FR44732829320",
    registration_id="732829320",
    registration_scheme="0002",  # SIRENE
    contact_name="Billing desk",
    contact_email="billing@northwind.example",
)
DOMESTIC_BUYER = Party(
    name="Aéroports Régionaux SA",
    address=Address(country="FR", street="1 avenue Jean Monnet", city="Lyon", postcode="69001"),
    vat_id="FR03552081317",
    registration_id="552081317",
    registration_scheme="0002",
)
GERMAN_BUYER = Party(
    name="Skybridge Logistik GmbH",
    address=Address(country="DE", street="Hafenstraße 5", city="Hamburg", postcode="20457"),
    vat_id="DE136695976",
)
JAN_1, JAN_31 = dt.date(2026, 10, 1), dt.date(2026, 10, 31)

COMMON = dict(
    seller=SELLER,
    issue_date=dt.date(2026, 11, 2),
    due_date=dt.date(2026, 12, 2),
    supply_start=JAN_1,
    supply_end=JAN_31,
    payment_terms="30 days net; late payment interest at three times the legal rate and a "
    "fixed EUR 40 recovery fee.",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPP",
    account_name="Northwind Services SAS",
)


def domestic() -> EInvoice:
    return EInvoice(
        type=DocumentType.INVOICE,
        number="INV-2026-00042",
        buyer=DOMESTIC_BUYER,
        currency="EUR",
        buyer_reference="AGR-0007",
        payment_reference="INV-2026-00042",
        lines=(
            Line("1", "Service desk, user-month", D("120"), "MON", D("35.50"), S, D("20"),
                 period_start=JAN_1, period_end=JAN_31),
            Line("2", "Consulting hours", D("7.5"), "HUR", D("110.00"), S, D("20")),
            Line("3", "Training material", D("3"), "C62", D("12.345"), S, D("5.5")),
        ),
        **COMMON,
    )  # fmt: skip


def reverse_charge() -> EInvoice:
    return EInvoice(
        type=DocumentType.INVOICE,
        number="INV-2026-00043",
        buyer=GERMAN_BUYER,
        currency="EUR",
        buyer_reference="PO-4711",
        note="Reverse charge: VAT to be accounted for by the recipient, Article 196 of "
        "Directive 2006/112/EC.",
        lines=(
            Line("1", "Managed hosting, VM-hour", D("1440"), "HUR", D("0.42"), AE, D("0")),
            Line("2", "Storage, GB-month", D("2048"), "E34", D("0.021"), AE, D("0")),
            # a tiered charge: its amount for its whole quantity (price base quantity, BT-149)
            Line("3", "Backup, tiered", D("1250.5"), "E34", D("61.37"), AE, D("0"),
                 base_quantity=D("1250.5")),
        ),
        **COMMON,
    )  # fmt: skip


def credit_and_in_kind() -> EInvoice:
    """Skylark Airlines pays a third of the contract in air tickets; a breach earned a credit."""
    return EInvoice(
        type=DocumentType.INVOICE,
        number="INV-2026-00044",
        buyer=replace(DOMESTIC_BUYER, name="Skylark Airlines SA"),
        currency="EUR",
        buyer_reference="CTR-SKY-2026",
        lines=(
            Line("1", "Consulting, fixed monthly fee", D("1"), "MON", D("9000.00"), S, D("20")),
            Line("2", "Incident handling, ticket", D("40"), "C62", D("25.00"), S, D("20")),
        ),
        allowances=(
            Allowance(D("450.00"), "Service credit: availability 99.2 % < 99.5 % (October)",
                      S, D("20")),
        ),
        in_kind_amount=D("3600.00"),
        **COMMON,
    )  # fmt: skip


def partial_credit_note() -> EInvoice:
    common = {k: v for k, v in COMMON.items() if k not in ("due_date", "iban", "bic")}
    return EInvoice(
        type=DocumentType.CREDIT_NOTE,
        number="CN-2026-00003",
        buyer=DOMESTIC_BUYER,
        currency="EUR",
        buyer_reference="AGR-0007",
        preceding_invoice="INV-2026-00042",
        preceding_issue_date=dt.date(2026, 11, 2),
        note="Partial credit: 10 service desk user-months invoiced twice.",
        lines=(Line("1", "Service desk, user-month", D("10"), "MON", D("35.50"), S, D("20")),),
        **{**common, "payment_terms": "Refunded to the buyer's account within 30 days."},
    )


def usd() -> EInvoice:
    return EInvoice(
        type=DocumentType.INVOICE,
        number="INV-2026-00045",
        buyer=replace(DOMESTIC_BUYER, name="Atlantic Cargo France SAS"),
        currency="USD",
        buyer_reference="AC-PO-88",
        vat_currency="EUR",
        vat_exchange_rate=D("0.8625"),
        lines=(
            Line("1", "Cloud cost, re-billed", D("1"), "C62", D("12480.37"), S, D("20")),
            Line("2", "Support, user-month", D("80"), "MON", D("19.99"), S, D("20")),
        ),
        **{**COMMON, "iban": "FR7630006000011234567890189"},
    )  # fmt: skip


CASES = {
    "domestic": domestic,
    "reverse_charge": reverse_charge,
    "credit_and_in_kind": credit_and_in_kind,
    "partial_credit_note": partial_credit_note,
    "usd": usd,
}
