"""R17 at the agreement: activation (and a new agreement) rests on a current due diligence."""

import datetime as dt
from decimal import Decimal as D

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from servicebook.agreements import services
from servicebook.agreements.models import Agreement
from servicebook.agreements.selectors import activation_blockers
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError
from servicebook.parties import services as parties
from servicebook.parties.models import Customer, DueDiligence


@pytest.fixture
def hr(db):
    return Customer.objects.get(code="hr")


@pytest.fixture
def signed_draft(users, hr):
    """A draft SLA for HR with everything activation needs except what a test takes away."""
    manager = users["manager"]
    draft = services.create_agreement(
        actor=manager, customer=hr, reference="SLA-HR-NEW", title="More laptops",
        start_date=dt.date(2026, 1, 1),
    )  # fmt: skip
    services.add_line(
        actor=manager, agreement=draft, offering=Offering.objects.get(code="laptop"), quantity=D(2)
    )
    services.sign_agreement(
        actor=manager, agreement=draft, contact=hr.contacts.get(is_approver=True)
    )
    return draft


def activate(user, draft):
    return services.change_agreement_status(actor=user, agreement=draft, to_status="active")


def expire_due_diligence(customer, months=13):
    latest = parties.latest_due_diligence(customer)
    DueDiligence.objects.filter(pk=latest.pk).update(
        concluded_at=latest.concluded_at - relativedelta(months=months)
    )


def test_activation_with_a_current_due_diligence_rests_on_it(users, signed_draft):
    assert activation_blockers(signed_draft) == []
    activate(users["manager"], signed_draft)
    signed_draft.refresh_from_db()
    assert signed_draft.status == "active"
    assert signed_draft.due_diligence == parties.latest_due_diligence(signed_draft.customer)


def test_activation_refused_without_a_current_due_diligence(users, hr, signed_draft):
    parties.start_due_diligence(actor=users["manager"], customer=hr, reason="Yearly renewal.")
    with pytest.raises(DomainError, match="no completed due diligence and no recorded waiver"):
        activate(users["manager"], signed_draft)
    signed_draft.refresh_from_db()
    assert signed_draft.status == "draft" and signed_draft.due_diligence is None


def test_activation_refused_with_an_expired_due_diligence(users, hr, signed_draft):
    expire_due_diligence(hr)
    with pytest.raises(DomainError, match=r"due diligence expired on .*request a fresh one"):
        activate(users["manager"], signed_draft)
    signed_draft.refresh_from_db()
    assert signed_draft.status == "draft"


def test_activation_refused_with_a_failed_due_diligence(users, hr, signed_draft):
    manager = users["manager"]
    due_diligence = parties.start_due_diligence(actor=manager, customer=hr, reason="Audit.")
    for check in due_diligence.checks.all():
        outcome = "failed" if check.check_type == "authority" else "passed"
        parties.record_check(actor=manager, check=check, outcome=outcome, evidence="seen")
    parties.conclude_due_diligence(actor=manager, due_diligence=due_diligence)
    blockers = activation_blockers(signed_draft)
    assert any("due diligence failed" in b and "cannot be waived" in b for b in blockers)
    with pytest.raises(DomainError, match="due diligence failed"):
        activate(manager, signed_draft)
    signed_draft.refresh_from_db()
    assert signed_draft.status == "draft"


def test_a_new_agreement_asks_for_a_fresh_due_diligence(users, hr, client_for):
    expire_due_diligence(hr)
    before = Agreement.objects.count()
    with pytest.raises(DomainError, match="A new agreement for Human Resources is refused"):
        services.create_agreement(
            actor=users["manager"], customer=hr, reference="SLA-HR-X", title="x",
            start_date=dt.date(2026, 1, 1),
        )  # fmt: skip
    response = client_for(users["manager"]).post(
        reverse("agreement-list"),
        {"customer": hr.pk, "reference": "SLA-HR-Y", "title": "y", "start_date": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "expired" in response.json()["detail"]
    assert Agreement.objects.count() == before
