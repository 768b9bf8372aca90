"""R11: an accepted price impact becomes a new version of the agreement from the change's
completion date (an amendment; the old version stays readable), and the next close bills it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from servicebook.agreements.models import Agreement
from servicebook.changes import services
from servicebook.changes.models import ChangeEvent
from servicebook.finance.billing import services as finance
from servicebook.finance.billing.models import Invoice

from .conftest import approve_all, impact_of

pytestmark = pytest.mark.django_db


def _airline():
    return Agreement.objects.get(reference="CT-SKY-2026", status="active")


def test_accepted_price_impact_is_billed_by_the_next_close(make_change, users, contacts):
    old = _airline()
    assert old.monthly_price() == D("21020.00")
    change = approve_all(make_change(price="800"), users, contacts)
    services.accept_price_impact(
        actor=users["external"], impact=impact_of(change, "skybridge"), note="as quoted"
    )
    services.schedule_change(actor=users["change"], change=change)
    assert _airline().pk == old.pk  # nothing changes before the change is completed

    services.implement_change(actor=users["change"], change=change)

    today = timezone.localdate()
    new = _airline()
    assert new.pk != old.pk and new.previous_id == old.pk and new.version == old.version + 1
    assert new.start_date == today
    assert new.monthly_price() == D("21820.00")
    assert new.contract_value == D("21820.00") and new.consideration_cash == D("14813.32")
    assert new.in_kind_value() == D("7006.68") and new.consideration_errors() == []
    old.refresh_from_db()
    assert old.status == "expired" and old.monthly_price() == D("21020.00")  # still readable
    assert old.end_date == max(old.start_date, today - dt.timedelta(days=1))
    assert new.events.filter(action="price_change").exists()
    applied = ChangeEvent.objects.get(change=change, action="price_applied")
    assert applied.customer.code == "skybridge" and "version 2" in applied.note

    period = f"{today:%Y-%m}"
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    finance.close_period(actor=users["finance"], period=period, today=next_month)
    invoice = Invoice.objects.get(period=period, customer__code="skybridge")
    assert invoice.agreement_id == new.pk
    assert invoice.gross == D("21820.00")
    assert invoice.lines.filter(
        description="Price adjustment from changes", amount=D("800")
    ).exists()
    assert invoice.in_kind_amount == D("7006.68")
    assert invoice.cash_amount + invoice.in_kind_amount == invoice.total_incl_tax  # VAT (0026)


def test_a_change_without_an_accepted_price_leaves_the_contract_alone(make_change, users, contacts):
    old = _airline()
    change = approve_all(make_change(), users, contacts)
    services.schedule_change(actor=users["change"], change=change)
    services.implement_change(actor=users["change"], change=change)
    assert _airline().pk == old.pk and _airline().monthly_price() == D("21020.00")
    assert not ChangeEvent.objects.filter(change=change, action="price_applied").exists()
