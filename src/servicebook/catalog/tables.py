"""The service catalog's table (page and CSV/XLSX export): one row a service, its offerings
(with their unit cost for those who may see cost) shown under it on the page; the export lists
the offerings with their list prices."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.catalog.models import Service
from servicebook.web.lists import ListTable

OFFERINGS = (
    '<div class="small text-muted mb-1">{{ record.description }}</div>'
    "{% with offerings=record.visible_offerings %}"
    '{% include "catalog/_offerings.html" %}{% endwith %}'
)


class ServiceTable(ListTable):
    name = tables.Column(linkify=("catalog:detail", [tables.A("pk")]))
    code = tables.Column()
    status = tables.Column()
    offered_to = tables.Column(verbose_name="Offered to")
    offerings = tables.TemplateColumn(
        OFFERINGS, verbose_name="Offerings", orderable=False, exclude_from_export=True
    )
    description = tables.Column(visible=False)
    price_list = tables.Column(
        verbose_name="Offerings (list price)", accessor="pk", orderable=False, visible=False
    )

    class Meta(ListTable.Meta):
        model = Service
        fields = ()
        empty_text = "The catalog is empty."
        order_by = ("name",)

    def value_price_list(self, record):
        return "; ".join(
            f"{o.name} ({o.currency} {o.list_price} per {o.get_unit_display()})"
            for o in record.visible_offerings
        )
