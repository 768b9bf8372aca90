"""The ports between apps (servicebook.ports, core.registry): wired at start-up, never silently.

A lower app asks a higher one through a port; the higher app plugs its implementation in from
``AppConfig.ready()``. These tests show that every expected provider is plugged in, that a
missing or renamed provider fails (at start-up and here), and that a port refuses a second or an
unexpected provider.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from servicebook import ports
from servicebook.core import registry
from servicebook.core.registry import Hook, Port, PortError


@pytest.fixture
def unplugged():
    """Every port emptied for the test, then restored."""
    saved = {id(port): list(port._parts) for port in registry.ports()}
    for port in registry.ports():
        port._parts.clear()
    yield
    for port in registry.ports():
        port._parts[:] = saved[id(port)]


def test_every_expected_provider_is_plugged_in():
    assert registry.problems() == []
    registry.verify()


def test_every_port_is_declared_in_one_place_and_named_once():
    names = [port.name for port in registry.ports()]
    assert len(names) == len(set(names))
    declared = {value.name for value in vars(ports).values() if isinstance(value, Port | Hook)}
    assert set(names) == declared


def test_every_domain_app_offers_pages_api_and_demo_in_layer_order():
    for hook in (ports.pages, ports.api_routes, ports.demo_steps):
        assert [label for label, _ in hook.labelled()] == list(ports.DOMAIN_APPS)


def test_a_missing_provider_is_named_with_the_app_that_should_plug_it_in(unplugged):
    problems = registry.problems()
    assert any("the levels app does not provide service_credits" in line for line in problems)
    with pytest.raises(PortError, match="finance app does not provide price_floor"):
        registry.verify()
    with pytest.raises(PortError, match="nothing provides price_floor"):
        ports.price_floor(None)


def test_a_port_refuses_a_second_or_an_unexpected_provider(unplugged):
    ports.price_floor.provide(lambda agreement: [], by="finance")
    with pytest.raises(PortError, match="the finance app provides price_floor twice"):
        ports.price_floor.provide(lambda agreement: [], by="finance")
    with pytest.raises(PortError, match="the port expects improvement"):
        ports.breach_improvement.provide(lambda **kw: None, by="finance")


@pytest.mark.parametrize("label", ports.DOMAIN_APPS)
def test_each_app_plugs_in_exactly_what_it_is_expected_to(label, unplugged):
    apps.get_app_config(label).ready()
    for port in registry.ports():
        assert (label in port.provided_by()) == (label in port.providers), port.name


@pytest.mark.parametrize(
    ("label", "module", "name"),
    [
        ("levels", "servicebook.levels.selectors", "pending_credits"),
        ("levels", "servicebook.levels.services", "mark_credits_applied"),
        ("improvement", "servicebook.improvement.services", "propose_from_breaches"),
        ("agreements", "servicebook.agreements.services", "end_agreements_of"),
        ("finance", "servicebook.finance.billing.consumption", "consumption_at_cost"),
        ("finance", "servicebook.finance.billing.customer_documents", "overdue_documents"),
        ("finance", "servicebook.finance.costing.selectors", "check_price_floor"),
    ],
)
def test_renaming_a_provider_fails_at_start_up(label, module, name, monkeypatch, unplugged):
    """Renaming levels.selectors.pending_credits once dropped every service credit from invoices
    silently; now the app's ready() fails on the missing name, so start-up (and this test) does."""
    monkeypatch.delattr(importlib.import_module(module), name)
    with pytest.raises((ImportError, AttributeError)):
        apps.get_app_config(label).ready()
