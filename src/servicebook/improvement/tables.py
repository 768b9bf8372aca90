"""The improvement register's table (page and CSV/XLSX export). The customer, driver and source
columns are for provider staff (the view drops them for customer users)."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.html import format_html

from servicebook.improvement.models import Improvement
from servicebook.web.lists import ListTable

STAFF_COLUMNS = ("customer", "driver", "source")


class ImprovementTable(ListTable):
    title = tables.Column(
        verbose_name="Improvement", linkify=("improvement:detail", [tables.A("pk")])
    )
    customer = tables.Column(accessor="customer__name", verbose_name="Customer", default="—")
    driver = tables.Column(default="—")
    source = tables.Column()
    expected = tables.Column(verbose_name="Expected result", accessor="pk", orderable=False)
    progress = tables.Column(accessor="actions_total", orderable=False)
    status = tables.Column()
    result = tables.Column(accessor="measured_value", default="—", orderable=False)

    class Meta(ListTable.Meta):
        model = Improvement
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "improvements"}
        row_attrs = {"data-testid": lambda record: f"improvement-{record.pk}"}
        empty_text = "No improvement."
        order_by = ("-created_at",)

    def render_customer(self, value, record):
        if record.customer_id and record.customer.in_difficulty:
            return format_html('{} <span class="badge text-bg-danger">in difficulty</span>', value)
        return value

    def value_customer(self, value):
        return value

    def render_expected(self, record):
        if not record.expected_measure:
            return format_html('<span class="text-muted">{}</span>', "not stated yet")
        return self.value_expected(record)

    def value_expected(self, record):
        if not record.expected_measure:
            return ""
        sign = "≤" if record.expected_direction == "at_most" else "≥"
        by = record.expected_by.isoformat() if record.expected_by else ""
        return f"{record.expected_measure} {sign} {record.expected_value:g} by {by}"

    def render_progress(self, record):
        if not record.actions_total:
            return "—"
        return f"{record.actions_done}/{record.actions_total} actions"

    def value_progress(self, record):
        return self.render_progress(record)

    def render_status(self, record):
        return render_to_string(
            "improvement/_status.html", {"s": record.status, "label": record.get_status_display()}
        )

    def value_status(self, record):
        return record.get_status_display()

    def render_result(self, record):
        if record.measured_value is None:
            return "—"
        verdict = ("text-success", "met") if record.result_met else ("text-danger", "missed")
        return format_html('{} <span class="{}">{}</span>', f"{record.measured_value:g}", *verdict)

    def value_result(self, record):
        if record.measured_value is None:
            return ""
        return f"{record.measured_value:g} {'met' if record.result_met else 'missed'}"
