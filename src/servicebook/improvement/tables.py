"""The improvement register's table (page and CSV/XLSX export). The customer, driver and source
columns are for provider staff (the view drops them for customer users)."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe
from django_tables2.data import TableData
from django_tables2.utils import OrderBy

from servicebook.improvement import ranking
from servicebook.improvement.models import Improvement
from servicebook.web.lists import ListTable
from servicebook.web.templatetags.sb import money

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


class HealthTable(ListTable):
    """Relationship health, one customer a row (rows are ``selectors.Health``, ranked by the
    view; the page shows 50 of them)."""

    customer = tables.Column(
        accessor="customer__name",
        verbose_name="Customer",
        order_by=("customer__name",),
        attrs={"td": {"data-testid": "health-customer"}},
    )
    rating = tables.Column(verbose_name="Health", accessor="rank", order_by=("rank",))
    satisfaction = tables.Column(accessor="latest_satisfaction", default="—", orderable=False)
    attainment = tables.Column(
        verbose_name="Targets met", accessor="attainment_percent", default="—", orderable=False
    )
    breaches = tables.Column(accessor="open_breaches", order_by=("open_breaches", "rank"))
    money = tables.Column(verbose_name="Money", accessor="customer__pk", orderable=False)
    complaints = tables.Column(
        verbose_name="Open complaints", accessor="open_complaints", order_by=("open_complaints",)
    )
    improvements = tables.Column(
        verbose_name="Open improvements", accessor="open_improvements", orderable=False
    )
    concerns = tables.Column(accessor="customer__code", orderable=False)

    class Meta(ListTable.Meta):
        attrs = {**ListTable.Meta.attrs, "data-testid": "health"}
        row_attrs = {"data-testid": lambda record: f"health-{record.customer.code}"}
        empty_text = "No customer."
        order_by = ("rating",)

    def render_customer(self, record):
        customer = record.customer
        url = reverse("improvement:health-detail", args=[customer.pk])
        flag = (
            mark_safe(' <span class="badge text-bg-danger">in difficulty</span>')
            if customer.in_difficulty
            else ""
        )
        return format_html(
            '<a href="{}?period={}">{}</a> <span class="small text-muted">{}</span>{}',
            url,
            record.period,
            customer.name,
            customer.get_kind_display(),
            flag,
        )

    def value_customer(self, record):
        return record.customer.name

    def render_rating(self, record):
        return render_to_string("improvement/_rating.html", {"h": record})

    def value_rating(self, record):
        return record.rating_label

    def render_satisfaction(self, record):
        latest, trend = record.latest_satisfaction, record.satisfaction_trend
        if trend is None:
            return str(latest)
        css = "text-danger" if trend < 0 else "text-success" if trend > 0 else "text-muted"
        sign = "+" if trend > 0 else ""
        return format_html('{} <span class="small {}">({}{})</span>', latest, css, sign, trend)

    def value_satisfaction(self, record):
        return record.latest_satisfaction

    def render_attainment(self, value):
        return f"{value}%"

    def render_money(self, record):
        if record.overdue_invoices is not None:
            if not record.overdue_invoices:
                return "0 overdue"
            amount = money(record.overdue_amount, record.currency)
            return f"{record.overdue_invoices} overdue ({amount})"
        if record.over_funding_by is not None:
            if record.over_funding_by > 0:
                amount = money(record.over_funding_by, record.currency)
                return format_html('<span class="text-danger">{} over funding</span>', amount)
            return "within funding"
        return "—"

    def value_money(self, record):
        return strip_tags(str(self.render_money(record)))

    def render_improvements(self, record):
        url = reverse("improvement:list")
        return format_html(
            '<a href="{}?customer={}">{}</a>', url, record.customer.pk, record.open_improvements
        )

    def value_improvements(self, record):
        return record.open_improvements

    def render_concerns(self, record):
        return "; ".join(record.concerns) or "—"

    def value_concerns(self, record):
        return "; ".join(record.concerns)


#: The health table's sort keys (its columns' ``order_by``) as the kept ranking's columns.
RANK_ORDER = {
    "rank": ranking.WORST_FIRST,
    "customer__name": ("name",),
    "open_breaches": ("open_breaches",),
    "open_complaints": ("open_complaints",),
}


class RankedHealthRows(TableData):
    """The health table's rows read from a current kept ranking (``improvement.ranking``):
    sorted, counted and sliced in the database, and only the rows of the page shown (or
    exported, a thousand at a time) made into ``Health`` rows."""

    def __init__(self, ranked: ranking.Ranked):
        super().__init__(ranked.ranks)
        self.kept = ranked.kept
        self.length = len(ranked)

    def __len__(self) -> int:
        return self.length

    def order_by(self, aliases):
        fields: list[str] = []
        for alias in aliases:
            column = self.table.columns[OrderBy(alias).bare]
            same = alias[0] == column.order_by_alias[0]
            for key in column.order_by if same else column.order_by.opposite:
                for field in RANK_ORDER.get(key.bare, ()):
                    descending = field.startswith("-") != key.is_descending
                    fields.append(f"-{field.lstrip('-')}" if descending else field.lstrip("-"))
        if fields:  # ties stay worst first, as a stable sort of the ranked list leaves them
            self.data = self.data.order_by(*fields, *ranking.WORST_FIRST, "customer_id")

    def __getitem__(self, key):
        if isinstance(key, slice):
            return ranking.health_rows(self.kept, self.data[key])
        return ranking.health_rows(self.kept, self.data[key : key + 1])[0]

    def __iter__(self):
        for start in range(0, len(self), 1_000):
            yield from self[start : start + 1_000]
