"""Contracts: signing authority (R17), consideration (R3), local law (R20), outcomes (R9),
amendments, and how the agreement page shows them."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicebook.agreements import services
from servicebook.agreements.models import Agreement
from servicebook.agreements.selectors import activation_blockers, jurisdiction_conflicts
from servicebook.catalog.models import Offering, Service
from servicebook.core.errors import DomainError
from servicebook.parties import services as parties
from servicebook.parties.models import Contact, Customer


def _contract(users, code="pacific", lines=(("vm-hour", "100"),)):
    agreement = services.create_agreement(
        actor=users["manager"],
        customer=Customer.objects.get(code=code),
        reference=f"NEW-{code}",
        title="New",
        start_date=dt.date(2026, 1, 1),
    )
    for offering, quantity in lines:
        services.add_line(
            actor=users["manager"],
            agreement=agreement,
            offering=Offering.objects.get(code=offering),
            quantity=D(quantity),
        )
    return agreement


def test_only_an_approver_with_enough_authority_signs(users):
    agreement = _contract(users, "skybridge", [("consulting-hour", "400")])  # 48,000 a month
    assert agreement.yearly_value() == D("576000.00")
    buyer = Contact.objects.get(name="Sophie Martin")
    with pytest.raises(DomainError, match="not an approver"):
        services.sign_agreement(actor=users["manager"], agreement=agreement, contact=buyer)
    parties.update_contact(
        actor=users["manager"], contact=buyer, is_approver=True, authority_limit=D("50000")
    )
    with pytest.raises(DomainError, match=r"authority limit EUR 50000.00 is below .* 576000.00"):
        services.sign_agreement(actor=users["manager"], agreement=agreement, contact=buyer)
    other = Contact.objects.get(name="Katrin Vogel")
    with pytest.raises(DomainError, match="not a contact of SkyBridge"):
        services.sign_agreement(actor=users["manager"], agreement=agreement, contact=other)
    assert not agreement.signatures.exists()
    marc = Contact.objects.get(name="Marc Lefèvre")
    services.sign_agreement(actor=users["manager"], agreement=agreement, contact=marc)
    assert agreement.signatures.get().yearly_value == D("576000.00")


def test_a_signature_no_longer_covers_a_larger_agreement(users):
    agreement = _contract(users, "skybridge", [("consulting-hour", "100")])
    marc = Contact.objects.get(name="Marc Lefèvre")
    services.sign_agreement(actor=users["manager"], agreement=agreement, contact=marc)
    assert not any("not signed" in b for b in activation_blockers(agreement))
    line = agreement.lines.get()
    services.update_line(actor=users["manager"], line=line, quantity=D("500"))
    assert any("not signed" in b for b in activation_blockers(agreement))


def test_airline_consideration_two_thirds_cash_one_third_tickets(db):
    airline = Agreement.objects.get(reference="CT-SKY-2026")
    assert airline.contract_value == airline.monthly_price() == D("21020.00")
    assert airline.consideration_cash == D("14013.32")
    assert airline.in_kind_value() == D("7006.68")
    assert airline.consideration_cash + airline.in_kind_value() == airline.contract_value
    assert airline.consideration_errors() == []


def test_consideration_must_add_up_to_the_cent(users):
    agreement = _contract(users, "skybridge", [("consulting-hour", "10")])
    with pytest.raises(ValidationError, match="not the contract value"):
        services.set_consideration(
            actor=users["manager"],
            agreement=agreement,
            contract_value=D("1200.00"),
            cash=D("816.66"),
            in_kind=[{"description": "Tickets", "unit_value": D("383.33"), "quantity": D(1)}],
        )
    agreement.refresh_from_db()
    assert agreement.contract_value is None and not agreement.consideration_items.exists()
    services.set_consideration(
        actor=users["manager"],
        agreement=agreement,
        contract_value=D("1200.00"),
        cash=D("816.67"),
        in_kind=[{"description": "Tickets", "unit_value": D("383.33"), "quantity": D(1)}],
    )
    assert agreement.consideration_errors() == []


def test_internal_customers_do_not_settle_in_kind(users):
    agreement = _contract(users, "hr", [("laptop", "1")])
    with pytest.raises(DomainError, match="does not settle in kind"):
        services.set_consideration(
            actor=users["manager"],
            agreement=agreement,
            contract_value=D("32"),
            cash=D("0"),
            in_kind=[{"description": "Desks", "unit_value": D("32"), "quantity": D(1)}],
        )


def test_jurisdiction_conflict_needs_the_customers_acknowledgement(users):
    agreement = _contract(users, "pacific")
    conflicts = jurisdiction_conflicts(agreement)
    assert [(c.service_name, c.outside, c.acknowledged) for c in conflicts] == [
        ("Cloud Hosting", ("FR", "DE"), False)
    ]
    wei = Contact.objects.get(name="Wei Ling Tan")
    services.sign_agreement(actor=users["manager"], agreement=agreement, contact=wei)
    with pytest.raises(DomainError, match="acknowledgement is needed"):
        services.change_agreement_status(
            actor=users["manager"], agreement=agreement, to_status="active"
        )
    hosting = Service.objects.get(code="cloud-hosting")
    with pytest.raises(DomainError, match="no data-location conflict"):
        services.acknowledge_jurisdiction(
            actor=users["manager"],
            agreement=agreement,
            service=Service.objects.get(code="workplace"),
            contact=wei,
            statement="x",
        )
    services.acknowledge_jurisdiction(
        actor=users["manager"],
        agreement=agreement,
        service=hosting,
        contact=wei,
        statement="Our legal responsibility; accepted.",
    )
    services.change_agreement_status(
        actor=users["manager"], agreement=agreement, to_status="active"
    )
    assert Agreement.objects.get(pk=agreement.pk).status == "active"


def test_internal_customers_have_no_jurisdiction_check(users):
    agreement = _contract(users, "hr", [("vm-hour", "10")])
    assert jurisdiction_conflicts(agreement) == []


def test_outcomes_are_recorded_for_external_customers_only(users):
    with pytest.raises(ValidationError, match="share the organization's objectives"):
        services.add_outcome(
            actor=users["manager"],
            agreement=Agreement.objects.get(reference="SLA-HR-2026"),
            description="x",
        )
    airline = Agreement.objects.get(reference="CT-SKY-2026")
    assert airline.outcomes.count() == 2


def test_amendment_keeps_the_old_version_readable(users, client_for):
    old = Agreement.objects.get(reference="CT-SKY-2026")
    new = services.amend_agreement(actor=users["manager"], agreement=old)
    assert (new.version, new.status, new.previous_id) == (2, "draft", old.pk)
    assert new.lines.count() == old.lines.count() and new.targets.count() == old.targets.count()
    assert new.in_kind_value() == old.in_kind_value()
    with pytest.raises(DomainError, match="already has an amendment"):
        services.amend_agreement(actor=users["manager"], agreement=old)
    line = new.lines.get(offering__code="consulting-hour")
    services.update_line(actor=users["manager"], line=line, quantity=D("170"))
    services.set_consideration(
        actor=users["manager"],
        agreement=new,
        contract_value=new.monthly_price(),
        cash=new.monthly_price() - D("7006.68"),
        in_kind=[
            {"description": "Tickets", "unit_value": D("1751.67"), "quantity": D(4)},
        ],
    )
    services.sign_agreement(
        actor=users["manager"], agreement=new, contact=Contact.objects.get(name="Marc Lefèvre")
    )
    services.change_agreement_status(actor=users["manager"], agreement=new, to_status="active")
    old.refresh_from_db()
    assert (
        old.status == "expired" and old.lines.get(offering__code="consulting-hour").quantity == 160
    )
    body = client_for(users["external"]).get(reverse("agreement-detail", args=[old.pk])).json()
    assert body["version"] == 1 and body["status"] == "expired"


def test_external_user_reads_contract_with_in_kind_split_and_credits(users, web_for):
    airline = Agreement.objects.get(reference="CT-SKY-2026")
    html = web_for(users["external"]).get(reverse("agreements:detail", args=[airline.pk]))
    text = html.content.decode()
    assert "Paris–New York return tickets" in text and "EUR 14,013.32" in text
    assert "EUR 7,006.68" in text and "Desired business outcomes" in text


def test_sign_over_the_api_refuses_without_authority(users, client_for):
    agreement = _contract(users, "skybridge", [("consulting-hour", "400")])
    buyer = Contact.objects.get(name="Sophie Martin")
    response = client_for(users["manager"]).post(
        reverse("agreement-sign", args=[agreement.pk]), {"contact": buyer.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "no_authority"
    assert not agreement.signatures.exists()


def test_a_contract_priced_below_cost_needs_a_finance_override(users, client_for):
    from servicebook.finance.costing.services import record_price_override

    agreement = _contract(users, "skybridge", [])
    laptop = Offering.objects.get(code="laptop")
    services.add_line(
        actor=users["manager"],
        agreement=agreement,
        offering=laptop,
        quantity=D(10),
        unit_price=D("20"),  # unit cost is 32
    )
    services.sign_agreement(
        actor=users["manager"],
        agreement=agreement,
        contact=Contact.objects.get(name="Marc Lefèvre"),
    )
    with pytest.raises(DomainError, match="below its cost"):
        services.change_agreement_status(
            actor=users["manager"], agreement=agreement, to_status="active"
        )
    body = client_for(users["external"]).get(reverse("agreement-detail", args=[agreement.pk]))
    assert "activation_blockers" not in body.json()  # may name cost: staff only
    with pytest.raises(DomainError):
        record_price_override(
            actor=users["manager"], agreement=agreement, offering=laptop, reason="strategic"
        )
    record_price_override(
        actor=users["finance"], agreement=agreement, offering=laptop, reason="Launch discount"
    )
    services.change_agreement_status(
        actor=users["manager"], agreement=agreement, to_status="active"
    )
    assert Agreement.objects.get(pk=agreement.pk).status == "active"
