"""The invoice and statement lists' tables (pages and CSV/XLSX export). An invoice's cash and
in-kind parts are columns of their own; the provider's cost only for those who may see cost."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.finance.billing.models import Invoice, Payment, Statement
from servicebook.web.lists import ListTable, MoneyColumn
from servicebook.web.templatetags.sb import money


class InvoiceTable(ListTable):
    cost_columns = ("cost",)

    number = tables.Column(verbose_name="Invoice", linkify=("finance:invoice", [tables.A("pk")]))
    period = tables.Column()
    customer = tables.Column(accessor="customer__name", verbose_name="Customer")
    agreement = tables.Column(accessor="agreement__reference", verbose_name="Contract")
    currency = tables.Column(visible=False)
    total = MoneyColumn()
    cash_amount = MoneyColumn(verbose_name="Cash part")
    in_kind_amount = MoneyColumn(verbose_name="In kind")
    credits = MoneyColumn(verbose_name="Service credits", visible=False)
    cost = MoneyColumn(verbose_name="Provider cost", visible=False)
    issue_date = tables.DateColumn("Y-m-d", verbose_name="Issued", visible=False)
    due_date = tables.DateColumn("Y-m-d", verbose_name="Due")
    status = tables.Column()

    class Meta(ListTable.Meta):
        model = Invoice
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "invoices"}
        empty_text = "No invoices."
        order_by = ("-period", "number")


class StatementTable(ListTable):
    cost_columns = ("total_cost",)

    number = tables.Column(
        verbose_name="Statement", linkify=("finance:statement", [tables.A("pk")])
    )
    period = tables.Column()
    customer = tables.Column(accessor="customer__name", verbose_name="Customer")
    funding_model = tables.Column(verbose_name="Funding model")
    currency = tables.Column(visible=False)
    total_cost = MoneyColumn(verbose_name="Consumption at cost")
    total_charge = MoneyColumn(verbose_name="Charged")
    recovered = MoneyColumn(verbose_name="Recovered (posted)")
    budget = MoneyColumn()

    class Meta(ListTable.Meta):
        model = Statement
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "statements"}
        empty_text = "No statements."
        order_by = ("-period", "number")


class PaymentTable(ListTable):
    """Cash received and in-kind deliveries: the two in columns of their own."""

    date = tables.DateColumn("Y-m-d")
    invoice = tables.Column(
        accessor="invoice__number",
        verbose_name="Invoice",
        linkify=("finance:invoice", [tables.A("invoice_id")]),
    )
    customer = tables.Column(accessor="invoice__customer__name", verbose_name="Customer")
    kind = tables.Column()
    currency = tables.Column(visible=False)
    cash = MoneyColumn(accessor="amount", verbose_name="Cash", order_by=("kind", "amount"))
    in_kind = MoneyColumn(accessor="amount", verbose_name="In kind", orderable=False)
    reference = tables.Column()

    class Meta(ListTable.Meta):
        model = Payment
        fields = ()
        empty_text = "No payments."
        order_by = ("-date",)

    def render_cash(self, value, record):
        return money(value, record.currency) if record.kind == "cash" else "—"

    def value_cash(self, value, record):
        return value if record.kind == "cash" else None

    def render_in_kind(self, value, record):
        return money(value, record.currency) if record.kind != "cash" else "—"

    def value_in_kind(self, value, record):
        return value if record.kind != "cash" else None
