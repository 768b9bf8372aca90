"""The ticket list's and the service levels overview's tables (page and CSV/XLSX export)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timezone import localtime

from servicebook.agreements.models import Agreement
from servicebook.levels.models import Outage, Ticket
from servicebook.web.lists import ListTable
from servicebook.web.templatetags.sb import money


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


class ServiceLevelTable(ListTable):
    """The service levels overview: one active agreement a row, its latest measured month and
    the consequences of its missed targets (credits for a contract, improvement items for an
    internal agreement). The figures are annotated on the query (``levels.views``)."""

    reference = tables.Column(
        verbose_name="Agreement", linkify=("levels:agreement", [tables.A("pk")])
    )
    title = tables.Column()
    customer = tables.Column(accessor="customer__name", verbose_name="Customer")
    kind = tables.Column()
    latest = tables.Column(accessor="sl_latest", verbose_name="Latest month", default="—")
    breaches = tables.Column(
        accessor="sl_breaches", verbose_name="Missed targets", attrs={"td": {"class": "money"}}
    )
    consequences = tables.Column(accessor="pk", verbose_name="Consequences", orderable=False)
    currency = tables.Column(visible=False)
    credits = tables.Column(accessor="sl_credits", verbose_name="Credits", visible=False)
    pending_credits = tables.Column(
        accessor="sl_pending_credits", verbose_name="Credits pending", visible=False
    )
    improvements = tables.Column(
        accessor="sl_improvements", verbose_name="Improvement items", visible=False
    )

    class Meta(ListTable.Meta):
        model = Agreement
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "levels-agreements"}
        empty_text = "No active agreements."
        order_by = ("reference",)

    def render_kind(self, record):
        return record.policy.agreement_label

    def value_kind(self, record):
        return record.policy.agreement_label

    def render_consequences(self, record):
        if not record.policy.penalties_apply:
            n = record.sl_improvements or 0
            return f"{n} improvement item{'' if n == 1 else 's'}"
        if not record.sl_credits:
            return "No credits"
        earned = money(record.sl_credits, record.currency)
        if record.sl_pending_credits:
            return f"Credits {earned}, {money(record.sl_pending_credits, record.currency)} pending"
        return f"Credits {earned}, all invoiced"


class OutageTable(ListTable):
    """Outages and planned maintenance: of which service, for whom, when and how long."""

    reference = tables.Column()
    service = tables.Column(accessor="service__name", verbose_name="Service")
    agreement = tables.Column(
        accessor="agreement__reference", verbose_name="Agreement", default="Every agreement"
    )
    planned = tables.Column(verbose_name="What")
    start = tables.DateTimeColumn("Y-m-d H:i", verbose_name="Started")
    end = tables.Column(verbose_name="Ended", empty_values=())
    description = tables.Column(default="")

    class Meta(ListTable.Meta):
        model = Outage
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "outage-rows"}
        empty_text = "No outages recorded."
        order_by = ("-start",)

    #: set by the page for those who may end an ongoing outage
    can_end = False

    def render_end(self, value, record):
        if value is not None:
            return f"{localtime(value):%Y-%m-%d %H:%M}"
        if not self.can_end:
            return "ongoing"
        url = reverse("levels:outage-end", args=[record.pk])
        return format_html('ongoing · <a href="{}">End it</a>', url)

    def value_end(self, value):
        return value.isoformat() if value is not None else "ongoing"

    def render_planned(self, value):
        return "Planned maintenance" if value else "Outage"

    def value_planned(self, value):
        return self.render_planned(value)
