"""R20: every change of a service's data locations, a customer's jurisdiction or a rule re-checks
the agreements concerned; no rule for a jurisdiction is a conflict; internal customers may have a
jurisdiction."""

import pytest
from django.urls import reverse

from servicebook.agreements.models import Agreement, AgreementEvent
from servicebook.agreements.selectors import activation_blockers, jurisdiction_conflicts
from servicebook.catalog import services as catalog
from servicebook.catalog.models import Service
from servicebook.parties import services as parties
from servicebook.parties.models import Customer


@pytest.fixture
def hosting(db):
    return Service.objects.get(code="cloud-hosting")  # FR, DE; live


def flags(agreement):
    return list(
        AgreementEvent.objects.filter(agreement=agreement, action="jurisdiction_conflict")
        .order_by("pk")
        .values_list("note", flat=True)
    )


def test_adding_a_location_reflags_active_agreements(users, hosting):
    retail = Agreement.objects.get(reference="CT-MER-2026")  # DE customer, EU-only rule
    assert retail.status == "active" and jurisdiction_conflicts(retail) == []
    catalog.update_service(actor=users["manager"], service=hosting, data_locations=["FR", "US"])
    conflict = jurisdiction_conflicts(retail)[0]
    assert (conflict.outside, conflict.acknowledged) == (("US",), False)
    [note] = flags(retail)
    assert "data locations changed from FR, DE to FR, US" in note
    assert "outside what DE allows" in note


def test_a_new_location_voids_an_acknowledgement_that_no_longer_covers_it(users, hosting):
    pacific = Agreement.objects.get(reference="CT-PAC-2026")  # SG: data in SG only
    assert [c.acknowledged for c in jurisdiction_conflicts(pacific)] == [True]
    catalog.update_service(
        actor=users["manager"], service=hosting, data_locations=["FR", "DE", "US"]
    )
    conflict = jurisdiction_conflicts(pacific)[0]
    assert conflict.outside == ("FR", "DE", "US") and not conflict.acknowledged
    assert "no longer covers it" in flags(pacific)[0]
    assert not pacific.acknowledgements.filter(service=hosting).exists()


def test_removing_a_location_flags_nothing(users, hosting):
    pacific = Agreement.objects.get(reference="CT-PAC-2026")
    catalog.update_service(actor=users["manager"], service=hosting, data_locations=["FR"])
    assert flags(pacific) == []
    assert [c.acknowledged for c in jurisdiction_conflicts(pacific)] == [True]


def test_a_jurisdiction_without_a_rule_is_a_conflict(users):
    retail = Customer.objects.get(code="meridian")
    agreement = Agreement.objects.get(reference="CT-MER-2026")
    parties.update_customer(actor=users["manager"], customer=retail, jurisdiction="JP")
    conflicts = jurisdiction_conflicts(agreement)
    assert conflicts and all(c.no_rule and not c.acknowledged for c in conflicts)
    assert all("no rule for this jurisdiction (JP)" in note for note in flags(agreement))
    assert any("no rule for this jurisdiction (JP)" in b for b in activation_blockers(agreement))
    # a rule that allows the locations clears the conflict
    parties.set_jurisdiction_rule(
        actor=users["manager"], jurisdiction="JP", allowed_locations=["FR", "DE"]
    )
    assert jurisdiction_conflicts(agreement) == []


def test_an_internal_customer_may_have_a_jurisdiction(users):
    hr = Customer.objects.get(code="hr")  # workplace services store data in FR
    agreement = Agreement.objects.get(reference="SLA-HR-2026")
    assert jurisdiction_conflicts(agreement) == []
    parties.update_customer(actor=users["manager"], customer=hr, jurisdiction="SG")
    hr.refresh_from_db()
    assert hr.jurisdiction == "SG"
    agreement = Agreement.objects.get(pk=agreement.pk)
    conflicts = jurisdiction_conflicts(agreement)
    assert conflicts and {c.jurisdiction for c in conflicts} == {"SG"}
    assert flags(agreement) and "jurisdiction changed from none to SG" in flags(agreement)[0]


def test_a_stricter_rule_reflags(users):
    agreement = Agreement.objects.get(reference="CT-MER-2026")
    parties.set_jurisdiction_rule(
        actor=users["manager"], jurisdiction="DE", allowed_locations=["DE"]
    )
    assert any("FR" in c.outside for c in jurisdiction_conflicts(agreement))
    assert flags(agreement)


def test_the_api_rechecks_too(users, client_for, hosting):
    response = client_for(users["manager"]).patch(
        reverse("service-detail", args=[hosting.pk]), {"data_locations": ["US"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert flags(Agreement.objects.get(reference="CT-MER-2026"))
