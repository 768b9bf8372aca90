"""The agreement list's table (page and CSV/XLSX export): the monthly charge, its cash and
in-kind parts in columns of their own, and the monthly cost for those who may see cost."""

from __future__ import annotations

import django_tables2 as tables

from servicebook.agreements.models import Agreement, Calendar
from servicebook.agreements.orders.models import Order
from servicebook.agreements.preview import describe_windows, holiday_place
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


class OrderTable(ListTable):
    """Orders: what was ordered, what it is charged a month (at cost or at the price, as the
    customer's policy says) and where it stands."""

    reference = tables.Column(
        accessor="pk",
        verbose_name="Order",
        linkify=("agreements:order", [tables.A("pk")]),
    )
    customer = tables.Column(accessor="agreement__customer__name", verbose_name="Customer")
    agreement = tables.Column(accessor="agreement__reference", verbose_name="Agreement")
    offering = tables.Column(accessor="offering__name", verbose_name="Offering")
    quantity = tables.Column(attrs={"th": {"class": "money"}, "td": {"class": "money"}})
    monthly_amount = MoneyColumn(verbose_name="A month")
    currency = tables.Column(visible=False)
    requester = tables.Column(accessor="requester__name", verbose_name="Requested by")
    status = tables.Column()
    created_at = tables.DateColumn("Y-m-d", verbose_name="Ordered")

    class Meta(ListTable.Meta):
        model = Order
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "order-rows"}
        empty_text = "No orders."

    def render_reference(self, record):
        return record.reference

    def value_reference(self, record):
        return record.reference

    def render_quantity(self, value):
        return f"{value.normalize():f}"


class CalendarTable(ListTable):
    """Business calendars: their zone, working week and whose public holidays close them."""

    name = tables.Column(linkify=("agreements:calendar", [tables.A("pk")]))
    time_zone = tables.Column(verbose_name="Time zone")
    week = tables.Column(accessor="pk", verbose_name="Working week", orderable=False)
    holidays = tables.Column(accessor="pk", verbose_name="Public holidays of", orderable=False)
    own_dates = tables.Column(accessor="pk", verbose_name="Own closed dates", orderable=False)

    class Meta(ListTable.Meta):
        model = Calendar
        fields = ()
        attrs = {**ListTable.Meta.attrs, "data-testid": "calendar-rows"}
        empty_text = "No calendars yet."
        order_by = ("name",)

    def render_week(self, record):
        """Runs of days with the same hours: "Mon–Fri 08:00–12:00, 13:00–17:00"."""
        runs: list[list] = []
        for day, hours in describe_windows(record):
            if runs and runs[-1][2] == hours:
                runs[-1][1] = day[:3]
            else:
                runs.append([day[:3], day[:3], hours])
        parts = [
            f"{first}{'' if first == last else '–' + last} {hours}"
            for first, last, hours in runs
            if hours != "closed"
        ]
        return "; ".join(parts) or "closed"

    def value_week(self, record):
        return self.render_week(record)

    def render_holidays(self, record):
        return holiday_place(record) or "none"

    def value_holidays(self, record):
        return self.render_holidays(record)

    def render_own_dates(self, record):
        return len(record.extra_holidays or [])

    def value_own_dates(self, record):
        return self.render_own_dates(record)
