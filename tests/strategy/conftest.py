"""Fixtures for strategy tests: the demo's objectives, customers and measures."""

from __future__ import annotations

import pytest

from servicebook.parties.models import Customer, Objective
from servicebook.strategy.models import Measure


@pytest.fixture
def customers(db) -> dict[str, Customer]:
    return {c.code: c for c in Customer.objects.all()}


@pytest.fixture
def research(db) -> Objective:
    """The objective behind R&D's secure data centre request."""
    return Objective.objects.get(title__startswith="Protect the group's research")


@pytest.fixture
def growth(db) -> Objective:
    return Objective.objects.get(title__startswith="Grow digital revenue")


@pytest.fixture
def hosted(db) -> Measure:
    """The research objective's entered measure (monthly, higher is better, target 95%)."""
    return Measure.objects.get(indicator__startswith="Confidential research projects")


@pytest.fixture
def outage(db) -> Measure:
    """SkyBridge Airlines' desired outcome, read monthly in minutes (lower is better)."""
    return Measure.objects.get(indicator="Minutes of booking-platform outage")
