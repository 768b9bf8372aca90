"""UBL 2.1 Invoice and CreditNote, Peppol BIS Billing 3.0 (EN 16931 CIUS), written with lxml.

Elements come in the order the UBL 2.1 schemas require; nothing empty is written (Peppol R008).
The tests validate every case against the OASIS UBL 2.1 XSD, the CEN EN 16931 UBL Schematron
and the Peppol BIS 3.0 Schematron.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from servicebook.finance.billing.einvoice.checks import check_peppol_endpoints
from servicebook.finance.billing.einvoice.document import (
    PEPPOL_CUSTOMIZATION,
    PEPPOL_PROFILE,
    Address,
    EInvoice,
    Line,
    Party,
    VatCategory,
)

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _number(value: Decimal) -> str:
    """A quantity, price or rate without trailing zeros (``2``, ``0.125``, ``20``)."""
    text = format(Decimal(value).normalize(), "f")
    return text


class _Writer:
    def __init__(self, doc: EInvoice):
        self.doc = doc

    def cbc(self, parent, name: str, text, **attrs):
        element = etree.SubElement(parent, f"{{{CBC}}}{name}", {k: v for k, v in attrs.items()})
        element.text = str(text)
        return element

    def cac(self, parent, name: str):
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def money(self, parent, name: str, value: Decimal, currency: str | None = None):
        return self.cbc(parent, name, _amount(value), currencyID=currency or self.doc.currency)

    # --- parties --------------------------------------------------------------------------------

    def address(self, parent, address: Address) -> None:
        node = self.cac(parent, "PostalAddress")
        for name, value in (
            ("StreetName", address.street),
            ("AdditionalStreetName", address.additional),
            ("CityName", address.city),
            ("PostalZone", address.postcode),
            ("CountrySubentity", address.subdivision),
        ):
            if value:
                self.cbc(node, name, value)
        self.cbc(self.cac(node, "Country"), "IdentificationCode", address.country)

    def party(self, parent, role: str, party: Party) -> None:
        node = self.cac(self.cac(parent, role), "Party")
        endpoint = party.electronic_address
        if endpoint:
            self.cbc(node, "EndpointID", endpoint[1], schemeID=endpoint[0])
        if party.trading_name:
            self.cbc(self.cac(node, "PartyName"), "Name", party.trading_name)
        self.address(node, party.address)
        if party.vat_id:
            scheme = self.cac(node, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", party.vat_id)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        legal = self.cac(node, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", party.name)
        if party.registration_id:
            attrs = {"schemeID": party.registration_scheme} if party.registration_scheme else {}
            self.cbc(legal, "CompanyID", party.registration_id, **attrs)
        if party.contact_name or party.contact_email or party.contact_phone:
            contact = self.cac(node, "Contact")
            for name, value in (
                ("Name", party.contact_name),
                ("Telephone", party.contact_phone),
                ("ElectronicMail", party.contact_email),
            ):
                if value:
                    self.cbc(contact, name, value)

    # --- tax ------------------------------------------------------------------------------------

    def tax_category(self, parent, name: str, category: VatCategory, rate: Decimal, reason=None):
        node = self.cac(parent, name)
        self.cbc(node, "ID", category.value)
        if category is not VatCategory.NOT_SUBJECT:
            self.cbc(node, "Percent", _number(rate))
        if reason:
            code, text = reason
            if code:
                self.cbc(node, "TaxExemptionReasonCode", code)
            if text:
                self.cbc(node, "TaxExemptionReason", text)
        self.cbc(self.cac(node, "TaxScheme"), "ID", "VAT")

    def tax_totals(self, root) -> None:
        doc = self.doc
        total = self.cac(root, "TaxTotal")
        self.money(total, "TaxAmount", doc.totals.tax)
        for row in doc.vat_breakdown:
            sub = self.cac(total, "TaxSubtotal")
            self.money(sub, "TaxableAmount", row.taxable)
            self.money(sub, "TaxAmount", row.tax)
            reason = (row.exemption_code, row.exemption_reason)
            self.tax_category(sub, "TaxCategory", row.category, row.rate, reason)
        in_vat_currency = doc.vat_in_vat_currency
        if in_vat_currency is not None:  # BT-111: a second TaxTotal, no subtotals (R054)
            accounting = self.cac(root, "TaxTotal")
            self.money(accounting, "TaxAmount", in_vat_currency, doc.vat_currency)

    def allowances(self, root) -> None:
        for allowance in self.doc.allowances:
            node = self.cac(root, "AllowanceCharge")
            self.cbc(node, "ChargeIndicator", "false")
            self.cbc(node, "AllowanceChargeReasonCode", allowance.reason_code)
            self.cbc(node, "AllowanceChargeReason", allowance.reason)
            self.money(node, "Amount", allowance.amount)
            self.tax_category(node, "TaxCategory", allowance.vat_category, allowance.vat_rate)

    # --- payment and totals ---------------------------------------------------------------------

    def payment(self, root) -> None:
        doc = self.doc
        if doc.iban:
            means = self.cac(root, "PaymentMeans")
            self.cbc(means, "PaymentMeansCode", doc.payment_means_code)
            if doc.payment_reference:
                self.cbc(means, "PaymentID", doc.payment_reference)
            account = self.cac(means, "PayeeFinancialAccount")
            self.cbc(account, "ID", doc.iban.replace(" ", ""))
            if doc.account_name:
                self.cbc(account, "Name", doc.account_name)
            if doc.bic:
                self.cbc(self.cac(account, "FinancialInstitutionBranch"), "ID", doc.bic)
        if doc.payment_terms:
            self.cbc(self.cac(root, "PaymentTerms"), "Note", doc.payment_terms)

    def monetary_total(self, root) -> None:
        totals = self.doc.totals
        node = self.cac(root, "LegalMonetaryTotal")
        self.money(node, "LineExtensionAmount", totals.lines)
        self.money(node, "TaxExclusiveAmount", totals.tax_exclusive)
        self.money(node, "TaxInclusiveAmount", totals.tax_inclusive)
        if self.doc.allowances:
            self.money(node, "AllowanceTotalAmount", totals.allowances)
        if totals.paid:
            self.money(node, "PrepaidAmount", totals.paid)
        self.money(node, "PayableAmount", totals.payable)

    def line(self, root, line: Line) -> None:
        credit = self.doc.is_credit_note
        node = self.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        self.cbc(node, "ID", line.id)
        quantity = "CreditedQuantity" if credit else "InvoicedQuantity"
        self.cbc(node, quantity, _number(line.quantity), unitCode=line.unit_code)
        self.money(node, "LineExtensionAmount", line.amount)
        if line.period_start or line.period_end:
            period = self.cac(node, "InvoicePeriod")
            if line.period_start:
                self.cbc(period, "StartDate", line.period_start.isoformat())
            if line.period_end:
                self.cbc(period, "EndDate", line.period_end.isoformat())
        item = self.cac(node, "Item")
        if line.description:
            self.cbc(item, "Description", line.description)
        self.cbc(item, "Name", line.name)
        self.tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate)
        price = self.cac(node, "Price")
        self.cbc(price, "PriceAmount", _number(line.net_price), currencyID=self.doc.currency)
        if line.base_quantity != 1:
            self.cbc(price, "BaseQuantity", _number(line.base_quantity), unitCode=line.unit_code)

    # --- the document ---------------------------------------------------------------------------

    def header(self, root) -> None:
        doc = self.doc
        self.cbc(root, "CustomizationID", PEPPOL_CUSTOMIZATION)
        self.cbc(root, "ProfileID", PEPPOL_PROFILE)
        self.cbc(root, "ID", doc.number)
        self.cbc(root, "IssueDate", doc.issue_date.isoformat())
        if doc.is_credit_note:
            self.cbc(root, "CreditNoteTypeCode", doc.type.value)
        else:
            if doc.due_date:
                self.cbc(root, "DueDate", doc.due_date.isoformat())
            self.cbc(root, "InvoiceTypeCode", doc.type.value)
        if doc.notes:
            self.cbc(root, "Note", doc.notes)
        self.cbc(root, "DocumentCurrencyCode", doc.currency)
        if doc.vat_in_vat_currency is not None:
            self.cbc(root, "TaxCurrencyCode", doc.vat_currency)
        self.cbc(root, "BuyerReference", doc.buyer_reference)
        if doc.supply_start or doc.supply_end:
            period = self.cac(root, "InvoicePeriod")
            if doc.supply_start:
                self.cbc(period, "StartDate", doc.supply_start.isoformat())
            if doc.supply_end:
                self.cbc(period, "EndDate", doc.supply_end.isoformat())
        if doc.preceding_invoice:
            reference = self.cac(self.cac(root, "BillingReference"), "InvoiceDocumentReference")
            self.cbc(reference, "ID", doc.preceding_invoice)
            if doc.preceding_issue_date:
                self.cbc(reference, "IssueDate", doc.preceding_issue_date.isoformat())

    def build(self):
        doc = self.doc
        ns = NS_CREDIT_NOTE if doc.is_credit_note else NS_INVOICE
        root = etree.Element(
            f"{{{ns}}}{'CreditNote' if doc.is_credit_note else 'Invoice'}",
            nsmap={None: ns, "cac": CAC, "cbc": CBC},
        )
        self.header(root)
        self.party(root, "AccountingSupplierParty", doc.seller)
        self.party(root, "AccountingCustomerParty", doc.buyer)
        self.payment(root)
        self.allowances(root)
        self.tax_totals(root)
        self.monetary_total(root)
        for line in doc.lines:
            self.line(root, line)
        return root


def to_ubl(doc: EInvoice) -> bytes:
    """The document as a UBL 2.1 Invoice or CreditNote (UTF-8 bytes with an XML declaration)."""
    check_peppol_endpoints(doc)
    root = _Writer(doc).build()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
