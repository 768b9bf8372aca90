"""R3: a contract's stated value, and its consideration (cash plus in kind), must equal what its
lines are worth a month (the price the customer is charged for them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from servicebook.agreements import services
from servicebook.agreements.models import Agreement
from servicebook.agreements.selectors import activation_blockers
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.parties.models import Customer

pytestmark = pytest.mark.django_db


def _contract(users):
    agreement = services.create_agreement(
        actor=users["manager"],
        customer=Customer.objects.get(code="skybridge"),
        reference="NEW-VALUE",
        title="New",
        start_date=dt.date(2026, 1, 1),
    )
    services.add_line(
        actor=users["manager"],
        agreement=agreement,
        offering=Offering.objects.get(code="consulting-hour"),
        quantity=D("10"),
    )
    return agreement  # 10 hours at 120: 1,200 a month


def test_the_demo_airline_states_what_its_lines_are_worth():
    airline = Agreement.objects.get(reference="CT-SKY-2026", status="active")
    assert airline.lines_value() == airline.contract_value == D("21020.00")


def test_a_stated_value_above_the_lines_is_refused_with_the_amounts(users):
    agreement = _contract(users)
    with pytest.raises(ValidationError) as error:
        services.set_consideration(
            actor=users["manager"],
            agreement=agreement,
            contract_value=D("30000.00"),
            cash=D("20000.00"),
            in_kind=[{"description": "Tickets", "unit_value": D("10000.00"), "quantity": D(1)}],
        )
    message = str(error.value)
    assert "30000.00" in message and "1200.00" in message
    agreement.refresh_from_db()
    assert agreement.contract_value is None and not agreement.consideration_items.exists()


def test_editing_the_stated_value_is_refused_too(users):
    agreement = _contract(users)
    with pytest.raises(ValidationError, match="not what the lines are worth"):
        services.update_agreement(
            actor=users["manager"], agreement=agreement, contract_value=D("30000.00")
        )
    agreement.refresh_from_db()
    assert agreement.contract_value is None


def test_activation_is_refused_when_the_lines_change_after_the_value(users):
    agreement = _contract(users)
    services.set_consideration(
        actor=users["manager"],
        agreement=agreement,
        contract_value=D("1200.00"),
        cash=D("1200.00"),
        in_kind=[],
    )
    services.add_line(
        actor=users["manager"],
        agreement=agreement,
        offering=Offering.objects.get(code="m365-seat"),
        quantity=D("10"),
    )
    blockers = activation_blockers(agreement)
    assert any("stated value EUR 1200.00" in b and "EUR 1380.00" in b for b in blockers), blockers
    with pytest.raises(DomainError, match="not what the lines are worth"):
        services.change_agreement_status(
            actor=users["manager"], agreement=agreement, to_status="active"
        )
    agreement.refresh_from_db()
    assert agreement.status == "draft"
