"""Fixtures for change tests: demo customers, contacts and a fresh change on Cloud Hosting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from servicebook.catalog.models import Service
from servicebook.changes import services
from servicebook.parties.models import Contact, Customer


@pytest.fixture
def customers(db) -> dict[str, Customer]:
    return {c.code: c for c in Customer.objects.all()}


@pytest.fixture
def contacts(db) -> dict[str, Contact]:
    return {c.name: c for c in Contact.objects.all()}


@pytest.fixture
def hosting(db) -> Service:
    return Service.objects.get(code="cloud-hosting")


def window(days: int = 40, hours: int = 2):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=days)
    return start, start + dt.timedelta(hours=hours)


@pytest.fixture
def make_change(users, hosting):
    """``make_change(stage=…)``: a change on Cloud Hosting taken to draft/assessment/submitted."""

    def make(stage="submitted", *, change_type="normal", service=None, cost="5000", price=None):
        actor = users["change"]
        start, end = window()
        change = services.create_change(
            actor=actor,
            title="Test change",
            change_type=change_type,
            services=[service or hosting],
            planned_start=start,
            planned_end=end,
        )
        if stage == "draft":
            return change
        services.start_assessment(actor=actor, change=change)
        services.assess_change(
            actor=actor, change=change, risk="medium", service_impact="none", cost_impact=D(cost)
        )
        if price is not None:
            impact = change.impacts.get(customer__code="skybridge")
            services.set_price_impact(actor=actor, impact=impact, price_impact=D(price))
        if stage == "assessment":
            return change
        services.submit_for_approval(actor=actor, change=change)
        change.refresh_from_db()
        return change

    return make


def impact_of(change, code):
    return change.impacts.get(customer__code=code)


def approve_all(change, users, contacts):
    """Approve for IT and every customer whose approval is needed (as IT, for named contacts)."""
    actor = users["change"]
    signers = {
        "marketing": "Clara Dupont",
        "rnd": "Dr. Lena Novak",
        "skybridge": "Marc Lefèvre",
        "pacific": "Wei Ling Tan",
        "meridian": "Katrin Vogel",
        "finance-dept": "Jonas Weber",
        "hr": "Amira Haddad",
    }
    if not change.approvals.filter(customer__isnull=True).exists():
        services.record_it_decision(actor=actor, change=change, verdict="approve")
    for impact in change.impacts.select_related("customer"):
        if impact.needs_decision and impact.decision == "pending":
            services.record_customer_decision(
                actor=actor,
                impact=impact,
                verdict="approve",
                contact=contacts[signers[impact.customer.code]],
            )
    change.refresh_from_db()
    return change
