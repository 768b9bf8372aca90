"""The customer and contact lists' tables (page and CSV/XLSX export)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from servicebook.core.audience import person_name
from servicebook.parties.models import Contact, Customer
from servicebook.web.lists import ListTable, MoneyColumn


class CustomerTable(ListTable):
    name = tables.Column(linkify=("parties:detail", [tables.A("pk")]))
    code = tables.Column()
    kind = tables.Column()
    status = tables.Column()
    status_reason = tables.Column(verbose_name="Reason", visible=False)
    terms = tables.Column(
        verbose_name="Funding / terms", accessor="funding_model", order_by=("funding_model",)
    )
    currency = tables.Column()
    jurisdiction = tables.Column(default="—")
    relationship_owner = tables.Column(
        verbose_name="Relationship owner",
        default="—",
        order_by=(
            "relationship_owner__first_name",
            "relationship_owner__last_name",
            "relationship_owner__username",
        ),
    )

    class Meta(ListTable.Meta):
        model = Customer
        fields = ()
        attrs = {**ListTable.Meta.attrs, "tbody": {"id": "customer-rows"}}
        empty_text = "No customers match."
        order_by = ("name",)

    def render_name(self, value, record):
        if not record.confidential:
            return value
        return format_html(
            '{} <span class="badge text-bg-warning">{}</span>', value, "confidential"
        )

    def render_kind(self, record):
        return format_html(
            '<span class="badge badge-kind-{}">{}</span>', record.kind, record.get_kind_display()
        )

    def value_kind(self, record):
        return record.get_kind_display()

    def render_terms(self, record):
        if record.funding_model:
            return record.get_funding_model_display()
        return f"{record.payment_terms_days} days, {record.currency}"

    def render_relationship_owner(self, value):
        return person_name(value)

    def value_relationship_owner(self, value):
        return person_name(value) if value is not None else ""

    def value_terms(self, record):
        return record.get_funding_model_display() if record.funding_model else ""


class ContactTable(ListTable):
    name = tables.Column()
    customer = tables.Column(
        accessor="customer__name",
        verbose_name="Customer",
        linkify=("parties:detail", [tables.A("customer_id")]),
    )
    title = tables.Column()
    email = tables.EmailColumn()
    phone = tables.Column(visible=False)
    roles = tables.Column(accessor="pk", verbose_name="Roles", orderable=False)
    authority_limit = MoneyColumn(verbose_name="Authority limit", currency="customer__currency")
    active = tables.BooleanColumn()

    class Meta(ListTable.Meta):
        model = Contact
        fields = ()
        empty_text = "No contacts match."
        order_by = ("customer", "name")

    def render_roles(self, record):
        return (
            ", ".join(
                label
                for flag, label in (
                    (record.is_requester, "requester"),
                    (record.is_approver, "approver"),
                    (record.is_billing, "billing"),
                    (record.is_technical, "technical"),
                )
                if flag
            )
            or "—"
        )

    def value_roles(self, record):
        text = self.render_roles(record)
        return "" if text == "—" else text
