"""The agreement list's table (page and CSV/XLSX export): the monthly charge, its cash and
in-kind parts in columns of their own, and the monthly cost for those who may see cost."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.agreements.models import Agreement
from servicebook.web.lists import ListTable, MoneyColumn


class AgreementTable(ListTable):
    cost_columns = ("monthly_cost",)

    reference = tables.Column(linkify=("agreements:detail", [tables.A("pk")]))
    title = tables.Column()
    customer = tables.Column(accessor="customer__name", verbose_name="Customer")
    kind = tables.Column()
    status = tables.Column()
    start_date = tables.DateColumn("Y-m-d", verbose_name="Start")
    end_date = tables.DateColumn("Y-m-d", verbose_name="End", default="open")
    currency = tables.Column()
    monthly_charge = MoneyColumn(verbose_name="Monthly charge", orderable=False)
    consideration_cash = MoneyColumn(verbose_name="Cash part", visible=False)
    in_kind = MoneyColumn(accessor="in_kind_value", verbose_name="In kind", visible=False)
    monthly_cost = MoneyColumn(verbose_name="Monthly cost", orderable=False)

    class Meta(ListTable.Meta):
        model = Agreement
        fields = ()
        empty_text = "No agreements."
        order_by = ("customer", "reference")
