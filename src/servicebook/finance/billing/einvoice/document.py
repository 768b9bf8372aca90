"""The e-invoice document: an invoice or credit note as EN 16931 sees it (a kernel, no Django).

One frozen dataclass per EN 16931 group: the parties (BG-4, BG-7) with their addresses, VAT and
registration numbers; the lines (BG-25) with UN/ECE Recommendation 20 units; document-level
allowances (BG-20) for service credits; the VAT breakdown (BG-23) and the totals (BG-22), which
are *computed* here the way the standard's business rules compute them (BR-CO-10 to BR-CO-17),
never taken on trust. The UBL and CII writers only serialize what this module computed, so both
syntaxes always say the same.

Decisions (docs/decisions/0027-e-invoicing.md):

- A service credit is a document-level **allowance** (BG-20, reason code 64 "special agreement"),
  not a negative line: EN 16931 forbids a negative item price (BR-27), and a credit is a reduction
  of the agreed price, which is exactly what an allowance is. Its VAT category and rate are those
  of the charges it reduces (BR-32, BR-33); a credit across several rates is one allowance a rate.
- The **in-kind part** (R3) is part of the invoice total (VAT is due on the whole consideration)
  and is shown as the **paid amount** (BT-113): it is settled by delivering goods or services,
  not by the transfer the payment instructions ask for, so the amount due (BT-115) is the cash
  part. A note (BT-22) says so in words.
- VAT is rounded per breakdown (category and rate), ROUND_HALF_UP to two places (BR-CO-17).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: EN 16931 specification identifier (BT-24) of Peppol BIS Billing 3.0, and its process (BT-23).
PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
#: The EN 16931 specification identifier a Factur-X EN 16931 (COMFORT) file carries.
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"

#: UNCL 5189 allowance reason used for a service credit: "64 Special agreement" (the contract's
#: credit schedule is the agreement).
SERVICE_CREDIT_REASON_CODE = "64"


class EInvoiceError(ValueError):
    """A document EN 16931 would refuse: says which field and why."""


def money(value: Decimal) -> Decimal:
    """Two places, ROUND_HALF_UP: the rounding every EN 16931 amount gets."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class DocumentType(enum.Enum):
    """BT-3: 380 commercial invoice, 381 credit note (UNCL 1001)."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


class VatCategory(enum.Enum):
    """BT-151/BT-118 (UNCL 5305, the EN 16931 subset). A reduced rate is category S with its
    lower rate: UNCL 5305 "AA" is not in the EN 16931 code list, BR-CL-18 refuses it."""

    STANDARD = "S"  # every taxed rate, reduced ones included (EN 16931 has no "AA": BR-CL-18)
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    NOT_SUBJECT = "O"
    ZERO_RATED = "Z"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"


#: Categories whose rate is 0 and whose breakdown needs an exemption reason (BR-E-10, BR-AE-10,
#: BR-O-10, BR-IC-10, BR-G-10); Z is 0 % but taxable, no reason.
EXEMPTED = {
    VatCategory.EXEMPT,
    VatCategory.REVERSE_CHARGE,
    VatCategory.NOT_SUBJECT,
    VatCategory.INTRA_COMMUNITY,
    VatCategory.EXPORT,
}

#: The reason a category gets when the caller gives none: VATEX code (CEF list) and its text.
DEFAULT_EXEMPTION: dict[VatCategory, tuple[str, str]] = {
    VatCategory.REVERSE_CHARGE: ("VATEX-EU-AE", "Reverse charge"),
    VatCategory.NOT_SUBJECT: ("VATEX-EU-O", "Not subject to VAT"),
    VatCategory.INTRA_COMMUNITY: ("VATEX-EU-IC", "Intra-Community supply"),
    VatCategory.EXPORT: ("VATEX-EU-G", "Export outside the EU"),
}

#: The national currency of each EU member state: VAT must be stated in it when the invoice is
#: in another currency (Directive 2006/112/EC art. 230; EN 16931 BT-6, BT-111).
EU_VAT_CURRENCY: dict[str, str] = {
    "AT": "EUR", "BE": "EUR", "BG": "EUR", "CY": "EUR", "DE": "EUR", "EE": "EUR", "ES": "EUR",
    "FI": "EUR", "FR": "EUR", "GR": "EUR", "HR": "EUR", "IE": "EUR", "IT": "EUR", "LT": "EUR",
    "LU": "EUR", "LV": "EUR", "MT": "EUR", "NL": "EUR", "PT": "EUR", "SI": "EUR", "SK": "EUR",
    "CZ": "CZK", "DK": "DKK", "HU": "HUF", "PL": "PLN", "RO": "RON", "SE": "SEK",
}  # fmt: skip

#: Peppol electronic address scheme (EAS) of a VAT number, by country prefix (the default
#: endpoint when a party names none).
VAT_EAS: dict[str, str] = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CY": "9928", "CZ": "9929", "DE": "9930",
    "EE": "9931", "GR": "9933", "EL": "9933", "HR": "9934", "IE": "9935", "LT": "9937",
    "LU": "9938", "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946",
    "RO": "9947", "SI": "9949", "SK": "9950", "ES": "9920", "FR": "9957", "HU": "9910",
    "IT": "0211", "GB": "9932", "CH": "9927",
}  # fmt: skip


@dataclass(frozen=True)
class Address:
    """BG-5 / BG-8: a postal address. ``country`` is ISO 3166-1 alpha-2."""

    country: str
    street: str = ""
    additional: str = ""
    city: str = ""
    postcode: str = ""
    subdivision: str = ""


@dataclass(frozen=True)
class Party:
    """The seller (BG-4) or buyer (BG-7).

    ``name`` is the legal registration name (BT-27/BT-44); ``registration_id`` the legal
    registration number (BT-30/BT-47) with its ISO 6523 scheme if known; ``vat_id`` the VAT
    number with its country prefix (BT-31/BT-48). ``endpoint`` is the electronic address
    (BT-34/BT-49) as (EAS scheme, identifier); by default the VAT number under its country's
    scheme.
    """

    name: str
    address: Address
    vat_id: str = ""
    registration_id: str = ""
    registration_scheme: str = ""
    trading_name: str = ""
    endpoint: tuple[str, str] | None = None
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""

    @property
    def electronic_address(self) -> tuple[str, str] | None:
        if self.endpoint:
            return self.endpoint
        if self.vat_id and self.vat_id[:2].upper() in VAT_EAS:
            return VAT_EAS[self.vat_id[:2].upper()], self.vat_id
        return None


@dataclass(frozen=True)
class Line:
    """BG-25: an invoice line. ``net_price`` is per ``base_quantity`` (BT-149, default 1) of
    ``unit_code`` (UN/ECE Rec 20, e.g. C62 one, HUR hour, MON month, E34 gigabyte); the net
    amount is quantity × price / base quantity, rounded once. A tiered charge whose amount is
    not quantity × one price is written as its amount per its whole quantity."""

    id: str
    name: str
    quantity: Decimal
    unit_code: str
    net_price: Decimal
    vat_category: VatCategory
    vat_rate: Decimal
    description: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    net_amount: Decimal | None = None  # given by the issuing system; checked, never trusted
    base_quantity: Decimal = Decimal(1)

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.net_price / self.base_quantity)


@dataclass(frozen=True)
class Allowance:
    """BG-20: a document-level allowance (a service credit), a positive amount deducted."""

    amount: Decimal
    reason: str
    vat_category: VatCategory
    vat_rate: Decimal
    reason_code: str = SERVICE_CREDIT_REASON_CODE


@dataclass(frozen=True)
class VatBreakdown:
    """BG-23: one VAT category and rate, its taxable amount, its VAT and (0 %) its reason."""

    category: VatCategory
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_code: str = ""
    exemption_reason: str = ""


@dataclass(frozen=True)
class Totals:
    """BG-22 with the names of EN 16931: BT-106, 107, 109, 110, 112, 113, 115 (no charges)."""

    lines: Decimal
    allowances: Decimal
    tax_exclusive: Decimal
    tax: Decimal
    tax_inclusive: Decimal
    paid: Decimal
    payable: Decimal


@dataclass(frozen=True)
class EInvoice:
    """An invoice or credit note ready for UBL, CII or Factur-X.

    Credit notes carry positive quantities and amounts (UBL CreditNote, CII 381) and name the
    invoice they correct (BG-3). ``exemption_reasons`` overrides the default reason text/code per
    0 % category (exempt invoices must give one). ``vat_exchange_rate`` converts the VAT total
    into the seller's national currency (BT-6/BT-111) when the invoice is in another currency.
    """

    type: DocumentType
    number: str
    issue_date: dt.date
    seller: Party
    buyer: Party
    currency: str
    lines: tuple[Line, ...]
    buyer_reference: str
    allowances: tuple[Allowance, ...] = ()
    due_date: dt.date | None = None
    supply_start: dt.date | None = None
    supply_end: dt.date | None = None
    note: str = ""
    payment_terms: str = ""
    iban: str = ""
    bic: str = ""
    account_name: str = ""
    payment_reference: str = ""
    preceding_invoice: str = ""
    preceding_issue_date: dt.date | None = None
    in_kind_amount: Decimal = ZERO
    exemption_reasons: dict[VatCategory, tuple[str, str]] = field(default_factory=dict)
    vat_currency: str = ""
    vat_exchange_rate: Decimal | None = None

    def __post_init__(self) -> None:
        from servicebook.finance.billing.einvoice.checks import check_document

        check_document(self)

    # --- what EN 16931 computes ---------------------------------------------------------------

    @property
    def is_credit_note(self) -> bool:
        return self.type is DocumentType.CREDIT_NOTE

    @property
    def vat_breakdown(self) -> tuple[VatBreakdown, ...]:
        """One row per (category, rate): lines less allowances, VAT rounded per row (BR-CO-17)."""
        bases: dict[tuple[VatCategory, Decimal], Decimal] = {}
        for line in self.lines:
            key = (line.vat_category, Decimal(line.vat_rate))
            bases[key] = bases.get(key, ZERO) + line.amount
        for allowance in self.allowances:
            key = (allowance.vat_category, Decimal(allowance.vat_rate))
            bases[key] = bases.get(key, ZERO) - money(allowance.amount)
        rows = []
        for (category, rate), taxable in sorted(
            bases.items(), key=lambda kv: (kv[0][0].value, kv[0][1])
        ):
            code, reason = "", ""
            if category in EXEMPTED:
                code, reason = self.exemption_reasons.get(
                    category, DEFAULT_EXEMPTION.get(category, ("", ""))
                )
            rows.append(
                VatBreakdown(
                    category=category,
                    rate=rate,
                    taxable=money(taxable),
                    tax=money(taxable * rate / 100),
                    exemption_code=code,
                    exemption_reason=reason,
                )
            )
        return tuple(rows)

    @property
    def totals(self) -> Totals:
        lines = sum((line.amount for line in self.lines), ZERO)
        allowances = sum((money(a.amount) for a in self.allowances), ZERO)
        tax = sum((row.tax for row in self.vat_breakdown), ZERO)
        exclusive = lines - allowances
        inclusive = exclusive + tax
        paid = money(self.in_kind_amount)
        return Totals(
            lines=lines,
            allowances=allowances,
            tax_exclusive=exclusive,
            tax=tax,
            tax_inclusive=inclusive,
            paid=paid,
            payable=inclusive - paid,
        )

    @property
    def vat_in_vat_currency(self) -> Decimal | None:
        """BT-111: the VAT total in the seller's national currency, when that is another."""
        if not self.vat_currency or self.vat_exchange_rate is None:
            return None
        return money(self.totals.tax * self.vat_exchange_rate)

    @property
    def payment_means_code(self) -> str:
        """BT-81 (UNCL 4461): 58 SEPA credit transfer for euro to an IBAN, 30 credit transfer."""
        return "58" if self.currency == "EUR" else "30"

    @property
    def notes(self) -> str:
        """BT-22: the one document note Peppol allows (R002): the caller's and the in-kind part."""
        parts = [self.note] if self.note else []
        if self.in_kind_amount:
            parts.append(
                f"{money(self.in_kind_amount)} {self.currency} of this invoice is settled in kind "
                "under the agreement (shown as paid amount); the amount due is the cash part."
            )
        return " ".join(parts)
