"""Fixtures for the improvement tests: the demo's customers, contacts and items by short name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from servicebook.improvement import services
from servicebook.improvement.models import Improvement
from servicebook.parties.models import Contact, Customer


@pytest.fixture
def customers(db) -> dict[str, Customer]:
    return {c.code: c for c in Customer.objects.all()}


@pytest.fixture
def contacts(db) -> dict[str, Contact]:
    """The first contact of each customer, by customer code (marketing → Clara Dupont)."""
    return {c.customer.code: c for c in Contact.objects.select_related("customer").order_by("-pk")}


@pytest.fixture
def items(db) -> dict[str, Improvement]:
    """The demo's items: launch, resets, tiers, frankfurt, meridian, pacific, breach."""
    titles = {
        "launch": "Campaign launches",
        "resets": "Self-service password resets",
        "tiers": "Competitive hosting price",
        "frankfurt": "Frankfurt-only hosting",
        "meridian": "Keep Meridian",
        "pacific": "Keep Pacific",
        "breach": "SLA-MKT-2026 2026-04",
    }
    return {key: Improvement.objects.get(title__startswith=t) for key, t in titles.items()}


PLAN = {
    "expected_measure": "Tickets resolved within target (%)",
    "expected_direction": "at_least",
    "baseline_value": D("80"),
    "expected_value": D("95"),
    "expected_by": dt.date(2027, 3, 31),
}


@pytest.fixture
def make_item(users):
    """``make_item(customer, driver, **fields)`` → a proposed item registered by the manager."""

    def make(customer, driver, **fields):
        return services.create_improvement(
            actor=users["manager"],
            customer=customer,
            title=fields.pop("title", f"Improve {customer.name}"),
            source=fields.pop("source", "feedback"),
            driver=driver,
            **{**PLAN, **fields},
        )

    return make
