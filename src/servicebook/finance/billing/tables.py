"""The invoice and statement lists' tables (pages and CSV/XLSX export). An invoice's cash and
in-kind parts are columns of their own; the provider's cost only for those who may see cost."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.finance.billing.models import Invoice, Statement
from servicebook.web.lists import ListTable, MoneyColumn


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
