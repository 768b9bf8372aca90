"""Design involvement (R10): specifications, internal sign-off before go-live, no external ROI."""

import pytest
from django.urls import reverse

from servicebook.catalog import services
from servicebook.catalog.models import Service
from servicebook.catalog.selectors import go_live_blockers
from servicebook.core.errors import DomainError
from servicebook.parties.models import Contact, Customer


def test_internal_sign_off_is_required_before_go_live(users):
    platform = Service.objects.get(code="data-platform")
    assert go_live_blockers(platform) == [
        "the specification v1 made with Marketing is not signed off"
    ]
    with pytest.raises(DomainError, match="cannot go live"):
        services.update_service(actor=users["manager"], service=platform, status="live")
    platform.refresh_from_db()
    assert platform.status == "pipeline"
    spec = platform.specifications.get()
    clara = Contact.objects.get(name="Clara Dupont")
    with pytest.raises(DomainError, match="customer the design was made with"):
        services.sign_off_specification(
            actor=users["manager"],
            specification=spec,
            contact=Contact.objects.get(name="Jonas Weber"),
        )
    services.sign_off_specification(actor=users["manager"], specification=spec, contact=clara)
    services.update_service(actor=users["manager"], service=platform, status="live")
    assert Service.objects.get(code="data-platform").status == "live"


def test_a_service_offered_to_internal_customers_needs_a_sign_off(users):
    service = services.create_service(
        actor=users["manager"],
        provider=Customer.objects.first().provider,
        code="new",
        name="New",
        offered_to="all",
    )
    assert "no internal customer has signed off" in go_live_blockers(service)[0]
    external_only = services.create_service(
        actor=users["manager"],
        provider=service.provider,
        code="ext",
        name="Ext",
        offered_to="external",
    )
    assert go_live_blockers(external_only) == []


def test_external_customers_join_design_only_when_positioning_allows(users):
    airline = Customer.objects.get(code="skybridge")
    service = Service.objects.get(code="cloud-hosting")
    with pytest.raises(DomainError, match="demand_based or needs_based"):
        services.create_specification(
            actor=users["manager"],
            service=service,
            customer=airline,
            positioning="pre_defined",
            functionality="x",
        )
    with pytest.raises(DomainError, match="return on investment"):
        services.create_specification(
            actor=users["manager"],
            service=service,
            customer=airline,
            positioning="needs_based",
            functionality="x",
            expected_roi="20%",
        )
    spec = services.create_specification(
        actor=users["manager"],
        service=service,
        customer=airline,
        positioning="needs_based",
        functionality="Frankfurt-only hosting",
        price="9000",
    )
    assert spec.version == 2 and spec.price == 9000


def test_demo_research_spec_is_signed_off(users, web_for):
    research = Service.objects.get(code="research-computing")
    spec = research.specifications.get()
    assert spec.status == "signed_off" and spec.signed_off_by.name == "Dr. Lena Novak"
    staff_page = web_for(users["manager"]).get(reverse("catalog:detail", args=[research.pk]))
    assert "Dr. Lena Novak" in staff_page.content.decode()
    # Marketing sees the service but not the R&D Lab's (confidential) specification
    page = web_for(users["internal"]).get(reverse("catalog:detail", args=[research.pk]))
    assert page.status_code == 200 and "Dr. Lena Novak" not in page.content.decode()


def test_a_new_service_for_internal_customers_cannot_start_live(users, client_for):
    response = client_for(users["manager"]).post(
        "/api/services/",
        {"code": "fresh", "name": "Fresh service", "status": "live", "offered_to": "all"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "starts in the pipeline" in response.json()["detail"]
    external_only = client_for(users["manager"]).post(
        "/api/services/",
        {"code": "ext", "name": "External only", "status": "live", "offered_to": "external"},
        format="json",
    )
    assert external_only.status_code == 201, external_only.content
