"""The ticket list's table (page and CSV/XLSX export)."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.levels.models import Ticket
from servicebook.web.lists import ListTable


class TicketTable(ListTable):
    number = tables.Column(linkify=("levels:ticket", [tables.A("pk")]))
    short_description = tables.Column(verbose_name="Description", visible=False)
    priority = tables.Column()
    state = tables.Column()
    opened_at = tables.DateTimeColumn("Y-m-d H:i", verbose_name="Opened")
    resolved_at = tables.DateTimeColumn("Y-m-d H:i", verbose_name="Resolved", default="—")
    category = tables.Column()
    source_made_sla = tables.Column(verbose_name="Source SLA flag", default="—")

    class Meta(ListTable.Meta):
        model = Ticket
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "ticket-rows"}
        empty_text = "No tickets."
        order_by = ("-opened_at",)

    def render_priority(self, value):
        return f"P{value}"

    def render_source_made_sla(self, value):
        return "made" if value else "missed"

    def value_source_made_sla(self, value):
        return "" if value is None else ("made" if value else "missed")
