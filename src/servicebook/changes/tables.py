"""The change list's table (page and CSV/XLSX export)."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.changes.models import ChangeRequest
from servicebook.web.lists import ListTable


class ChangeTable(ListTable):
    reference = tables.Column(linkify=("changes:detail", [tables.A("pk")]))
    title = tables.Column()
    change_type = tables.Column(verbose_name="Type")
    status = tables.Column()
    risk = tables.Column(visible=False)
    services = tables.ManyToManyColumn(transform=lambda service: service.name, orderable=False)
    planned_start = tables.DateTimeColumn("Y-m-d H:i", verbose_name="Start (UTC)", default="—")
    planned_end = tables.DateTimeColumn("Y-m-d H:i", verbose_name="End (UTC)", default="—")

    class Meta(ListTable.Meta):
        model = ChangeRequest
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "change-list"}
        empty_text = "No changes."
