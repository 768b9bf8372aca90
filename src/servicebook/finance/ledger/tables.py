"""The journal entry list's table (page and CSV/XLSX export; finance and the provider admin
only, like the whole ledger)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html_join

from servicebook.finance.ledger.models import JournalEntry
from servicebook.web.lists import ListTable
from servicebook.web.templatetags.sb import money


def _line(line) -> str:
    side = (
        f"Dr {money(line.debit, line.currency)}"
        if line.debit
        else (f"Cr {money(line.credit, line.currency)}")
    )
    return f"{line.account.code} {side}"


class JournalEntryTable(ListTable):
    id = tables.Column(
        verbose_name="Entry",
        accessor="number",
        order_by=("id",),
        linkify=("finance:ledger-entry", {"pk": tables.A("pk")}),
    )
    period = tables.Column()
    date = tables.DateColumn("Y-m-d")
    kind = tables.Column()
    customer = tables.Column(accessor="customer__name", verbose_name="Customer", default="—")
    memo = tables.Column()
    lines = tables.Column(accessor="pk", verbose_name="Lines", orderable=False)

    class Meta(ListTable.Meta):
        model = JournalEntry
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "entries"}
        empty_text = "Nothing posted yet."
        order_by = ("-id",)

    def render_lines(self, record):
        return format_html_join("", "<div>{}</div>", ((_line(x),) for x in record.lines.all()))

    def value_lines(self, record):
        return "; ".join(_line(x) for x in record.lines.all())
