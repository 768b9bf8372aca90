"""Agreements: kind from the policy (R12), lines and prices, lifecycle, cost vs price (R5-R7)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from servicebook.agreements import services
from servicebook.agreements.models import Agreement, AgreementLine
from servicebook.catalog.models import Offering
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.parties.models import Customer


def _draft(users, code, reference="NEW-1", actor="manager"):
    return services.create_agreement(
        actor=users[actor],
        customer=Customer.objects.get(code=code),
        reference=reference,
        title="New",
        start_date=dt.date(2026, 1, 1),
    )


def test_kind_is_derived_from_the_customer(users):
    assert _draft(users, "marketing", "A").kind == "sla"
    contract = _draft(users, "meridian", "B")
    assert contract.kind == "contract" and contract.legally_binding
    assert contract.currency == "EUR"


def test_demo_contract_prices_and_internal_charges_at_cost(db):
    retail = Agreement.objects.get(reference="CT-MER-2026")
    laptop = retail.lines.get(offering__code="laptop")
    assert laptop.monthly_price() == D("12600.00")  # 300 × 42 agreed price
    assert laptop.monthly_cost() == D("9600.00")  # 300 × 32 standard cost
    assert laptop.monthly_charge() == D("12600.00")  # external: price
    marketing = Agreement.objects.get(reference="SLA-MKT-2026")
    vm = marketing.lines.get(offering__code="vm-hour")
    assert vm.monthly_price() == D("230.00")  # graduated: 1000 × 0.09 + 2000 × 0.07
    assert vm.monthly_charge() == vm.monthly_cost() == D("135.00")  # internal: 3000 × 0.045


def test_line_rules(users):
    draft = _draft(users, "meridian")
    research = Offering.objects.get(code="hpc-node-hour")
    with pytest.raises(ValidationError, match="not offered to this kind"):
        services.add_line(actor=users["manager"], agreement=draft, offering=research, quantity=D(1))
    with pytest.raises(ValidationError):
        services.add_line(
            actor=users["manager"],
            agreement=draft,
            offering=Offering.objects.get(code="laptop"),
            quantity=D(-1),
        )
    assert not draft.lines.exists()
    line = services.add_line(
        actor=users["manager"],
        agreement=draft,
        offering=Offering.objects.get(code="laptop"),
        quantity=D(10),
    )
    assert line.unit_price == D("45")  # list price by default


def test_activation_rules(users):
    draft = _draft(users, "meridian")
    with pytest.raises(DomainError, match="no lines"):
        services.change_agreement_status(
            actor=users["manager"], agreement=draft, to_status="active"
        )
    services.add_line(
        actor=users["manager"],
        agreement=draft,
        offering=Offering.objects.get(code="laptop"),
        quantity=D(1),
    )
    with pytest.raises(DomainError, match="not signed by an approver"):
        services.change_agreement_status(
            actor=users["manager"], agreement=draft, to_status="active"
        )
    approver = draft.customer.contacts.get(is_approver=True)
    services.sign_agreement(actor=users["manager"], agreement=draft, contact=approver)
    services.change_agreement_status(actor=users["manager"], agreement=draft, to_status="active")
    draft.refresh_from_db()
    assert draft.status == "active" and draft.due_diligence.status == "completed"
    actions = [e.action for e in draft.events.all()]
    assert actions == ["created", "line_added", "signed", "status"]
    with pytest.raises(DomainError, match="cannot be edited"):
        services.add_line(
            actor=users["manager"],
            agreement=draft,
            offering=Offering.objects.get(code="m365-seat"),
            quantity=D(1),
        )
    with pytest.raises(DomainError, match="is active and cannot become draft"):
        services.change_agreement_status(actor=users["manager"], agreement=draft, to_status="draft")


def test_only_editors_write_agreements(users):
    for username in ("finance", "change", "internal", "external"):
        with pytest.raises(PermissionDenied):
            _draft(users, "meridian", f"X-{username}", actor=username)
    assert not Agreement.objects.filter(reference__startswith="X-").exists()


def test_terminated_customer_gets_no_new_agreement(users):
    customer = Customer.objects.get(code="pacific")
    Customer.objects.filter(pk=customer.pk).update(status="terminated", status_reason="ended")
    with pytest.raises(DomainError, match="terminated"):
        _draft(users, "pacific")


def test_end_before_start_is_refused(users):
    with pytest.raises(ValidationError) as error:
        services.create_agreement(
            actor=users["manager"],
            customer=Customer.objects.get(code="hr"),
            reference="BAD",
            title="Bad",
            start_date=dt.date(2026, 5, 1),
            end_date=dt.date(2026, 4, 1),
        )
    assert "end_date" in error.value.message_dict
    assert not Agreement.objects.filter(reference="BAD").exists()
    assert AgreementLine.objects.filter(agreement__reference="BAD").count() == 0
