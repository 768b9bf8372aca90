"""Filters of the invoice and statement lists, shared by the pages and the API
(``filterset_class``)."""

from __future__ import annotations

from django_filters import rest_framework as filters

from servicebook.agreements.models import Agreement
from servicebook.finance.billing.models import Invoice, Payment, Statement
from servicebook.parties.models import Customer
from servicebook.web.lists import contains_any, visible_choices

#: The columns the lists sort by, pages and API alike (``?ordering=-period``).
INVOICE_ORDERING = ["number", "period", "customer__name", "issue_date", "due_date", "status"]
STATEMENT_ORDERING = ["number", "period", "customer__name", "funding_model"]


class _Text(filters.FilterSet):
    q = filters.CharFilter(method="search_text", label="Search")
    customer = filters.ModelChoiceFilter(queryset=visible_choices(Customer))

    def search_text(self, queryset, name, value):
        return contains_any(queryset, value, "number", "customer__name")


class InvoiceFilter(_Text):
    """Period, status, customer, contract, and a text search on number and customer."""

    agreement = filters.ModelChoiceFilter(queryset=visible_choices(Agreement), label="Contract")

    class Meta:
        model = Invoice
        fields = ["q", "period", "status", "customer", "agreement"]


class StatementFilter(_Text):
    """Period, funding model, customer, and a text search on number and customer."""

    class Meta:
        model = Statement
        fields = ["q", "period", "funding_model", "customer"]


#: The columns the payment list sorts by, page and API alike (``?ordering=-date``).
PAYMENT_ORDERING = ["date", "invoice__number", "invoice__customer__name", "kind", "amount"]


class PaymentFilter(filters.FilterSet):
    """Kind (cash or in kind), invoice, customer, and a text search on the invoice number, the
    payment's reference and the customer."""

    q = filters.CharFilter(method="search_text", label="Search")
    invoice = filters.ModelChoiceFilter(queryset=visible_choices(Invoice))
    customer = filters.ModelChoiceFilter(
        field_name="invoice__customer", queryset=visible_choices(Customer)
    )

    class Meta:
        model = Payment
        fields = ["q", "kind", "invoice", "customer"]

    def search_text(self, queryset, name, value):
        return contains_any(
            queryset, value, "invoice__number", "reference", "invoice__customer__name"
        )
