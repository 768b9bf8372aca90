"""Every page renders for every role that may see it, scoped; forms refuse bad input."""

import pytest
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import Service
from servicebook.parties.models import Customer

ROLES = ["admin", "manager", "finance", "change", "internal", "external"]


@pytest.mark.parametrize("role", ROLES)
def test_home_catalog_and_agreements_render(users, web_for, role):
    client = web_for(users[role])
    for name in ("web:home", "catalog:list", "agreements:list"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name


def test_login_required(client, db):  # db: the first-run check asks for a provider
    response = client.get(reverse("web:home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_login_page_signs_in(client, users):
    response = client.post(
        reverse("login"), {"username": "manager", "password": "servicebook-demo"}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].username == "manager"


def test_external_agreement_page_shows_prices_never_cost(users, web_for):
    client = web_for(users["external"])
    agreement = Agreement.objects.get(reference="CT-SKY-2026")
    page = client.get(reverse("agreements:detail", args=[agreement.pk])).content.decode()
    assert 'data-testid="line-price"' in page
    assert "line-cost" not in page and "Margin" not in page and ">Cost<" not in page
    catalog = client.get(reverse("catalog:list")).content.decode()
    assert "unit-cost" not in catalog and "Unit cost" not in catalog


def test_internal_agreement_page_shows_cost(users, web_for):
    client = web_for(users["internal"])
    agreement = Agreement.objects.get(reference="SLA-MKT-2026")
    page = client.get(reverse("agreements:detail", args=[agreement.pk])).content.decode()
    assert 'data-testid="line-cost"' in page and "Margin" not in page
    assert 'data-testid="unit-cost"' in client.get(reverse("catalog:list")).content.decode()


def test_staff_see_margin_on_contracts(users, web_for):
    agreement = Agreement.objects.get(reference="CT-MER-2026")
    page = web_for(users["finance"]).get(reverse("agreements:detail", args=[agreement.pk]))
    assert "Margin" in page.content.decode()


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_see_only_their_own(users, web_for, role):
    client = web_for(users[role])
    own = users[role].customer
    response = client.get(reverse("parties:list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("parties:detail", args=[own.pk])
    assert client.get(reverse("parties:detail", args=[own.pk])).status_code == 200
    for other in Customer.objects.exclude(pk=own.pk):
        assert client.get(reverse("parties:detail", args=[other.pk])).status_code == 404
    for agreement in Agreement.objects.exclude(customer=own):
        assert client.get(reverse("agreements:detail", args=[agreement.pk])).status_code == 404
    listed = client.get(reverse("agreements:list")).context["agreements"]
    assert {a.customer_id for a in listed} == {own.pk}
    assert client.get(reverse("parties:create")).status_code == 403


def test_customer_list_filters_with_htmx(users, web_for):
    client = web_for(users["manager"])
    response = client.get(reverse("parties:list"), {"q": "sky"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "SkyBridge" in html and "Marketing" not in html and "<nav" not in html


def test_customer_form_refuses_bad_input_and_writes_nothing(users, web_for):
    client = web_for(users["manager"])
    before = Customer.objects.count()
    response = client.post(
        reverse("parties:create"), {"kind": "internal", "name": "Legal", "code": "legal"}
    )
    assert response.status_code == 200
    assert "required for an internal customer" in response.content.decode()
    assert Customer.objects.count() == before
    response = client.post(
        reverse("parties:create"),
        {
            "kind": "internal",
            "name": "Legal",
            "code": "legal",
            "business_unit": "Legal",
            "cost_centre": "CC-9",
            "funding_model": "showback",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.filter(code="legal", status="prospect").exists()


def test_agreement_pages_create_add_line_activate(users, web_for):
    client = web_for(users["manager"])
    hr = Customer.objects.get(code="hr")
    response = client.post(
        reverse("agreements:create"),
        {"customer": hr.pk, "reference": "SLA-HR-X", "title": "Extra", "start_date": "2026-03-01"},
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get(reference="SLA-HR-X")
    laptop = agreement.customer.provider.services.get(code="workplace").offerings.get(code="laptop")
    url = reverse("agreements:line-create", args=[agreement.pk])
    assert client.post(url, {"offering": laptop.pk, "quantity": "-1"}).status_code == 200
    assert client.post(url, {"offering": laptop.pk, "quantity": "4"}).status_code == 302
    status_url = reverse("agreements:status", args=[agreement.pk])
    response = client.post(status_url, {"to_status": "active"})
    assert "not signed by an approver" in response.content.decode()
    approver = hr.contacts.get(is_approver=True)
    sign_url = reverse("agreements:sign", args=[agreement.pk])
    assert client.post(sign_url, {"contact": approver.pk}).status_code == 302
    assert client.post(status_url, {"to_status": "active"}).status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "active" and agreement.lines.count() == 1
    response = client.post(status_url, {"to_status": "draft"})
    assert "and cannot become draft" in response.content.decode()


def test_finance_cannot_edit_customers_but_can_suspend(users, web_for):
    client = web_for(users["finance"])
    retail = Customer.objects.get(code="meridian")
    assert client.get(reverse("parties:edit", args=[retail.pk])).status_code == 403
    response = client.post(
        reverse("parties:status", args=[retail.pk]),
        {"to_status": "suspended", "reason": "non_payment"},
    )
    assert response.status_code == 302
    retail.refresh_from_db()
    assert retail.status == "suspended"


def test_service_pages(users, web_for):
    service = Service.objects.get(code="cloud-hosting")
    page = web_for(users["manager"]).get(reverse("catalog:detail", args=[service.pk]))
    assert "Graduated tiers" in page.content.decode()
    payroll = Service.objects.get(code="payroll")
    assert (
        web_for(users["external"]).get(reverse("catalog:detail", args=[payroll.pk])).status_code
        == 404
    )


def test_pages_use_a_constant_number_of_queries(users, web_for, django_assert_max_num_queries):
    client = web_for(users["manager"])
    agreement = Agreement.objects.get(reference="SLA-RND-2026")
    urls = [
        reverse("web:home"),
        reverse("parties:list"),
        reverse("parties:detail", args=[agreement.customer_id]),
        reverse("catalog:list"),
        reverse("agreements:list"),
        reverse("agreements:detail", args=[agreement.pk]),
    ]
    for url in urls:
        with django_assert_max_num_queries(21):  # 20, and the list of attached files
            assert client.get(url).status_code == 200
