"""The demand list's table (page and CSV/XLSX export)."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.demand.models import DemandRequest
from servicebook.web.lists import ListTable, MoneyColumn


class DemandTable(ListTable):
    reference = tables.Column(linkify=("demand:detail", [tables.A("pk")]))
    title = tables.Column()
    customer = tables.Column(accessor="customer__name", verbose_name="Customer")
    requester = tables.Column(accessor="requester__name", verbose_name="Requested by")
    kind = tables.Column(visible=False)
    status = tables.Column()
    currency = tables.Column(visible=False)
    investment = MoneyColumn(verbose_name="Investment", order_by=("required_investment",))

    class Meta(ListTable.Meta):
        model = DemandRequest
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "demand-list"}
        empty_text = "No requests."
