"""Permission matrix: each role × each API list endpoint × another customer's object.

Provider staff see every customer's objects; a customer user sees only its own customer's, and
another customer's object is a 404 (not a 403: its existence is not disclosed either).
"""

import pytest
from django.urls import reverse

from servicebook.agreements.models import (
    Agreement,
    AgreementLine,
    ChangeClause,
    ServiceLevelTarget,
)
from servicebook.parties.models import (
    Commitment,
    Contact,
    Customer,
    DueDiligence,
    Feedback,
)

ENDPOINTS = {
    "customer": (Customer, "pk"),
    "contact": (Contact, "customer"),
    "agreement": (Agreement, "customer"),
    "agreementline": (AgreementLine, "agreement__customer"),
    "serviceleveltarget": (ServiceLevelTarget, "agreement__customer"),
    "changeclause": (ChangeClause, "agreement__customer"),
    "duediligence": (DueDiligence, "customer"),
    "commitment": (Commitment, "customer"),
    "feedback": (Feedback, "customer"),
}
ROLES = ["admin", "manager", "finance", "change", "internal", "external"]


def _ids(client, url):
    ids, page = [], url
    while page:
        response = client.get(page)
        assert response.status_code == 200, response.content
        ids += [row["id"] for row in response.json()["results"]]
        page = response.json()["next"]
    return set(ids)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("basename", list(ENDPOINTS))
def test_list_and_detail_scoping(users, client_for, role, basename):
    model, path = ENDPOINTS[basename]
    user = users[role]
    client = client_for(user)
    listed = _ids(client, reverse(f"{basename}-list"))
    if user.customer_id is None:
        assert listed == set(model.objects.values_list("pk", flat=True))
        return
    own = set(model.objects.filter(**{path: user.customer_id}).values_list("pk", flat=True))
    if not own and basename in ("changeclause", "commitment"):
        return
    assert own, "the demo gives every customer user something of its own"
    assert listed == own
    others = model.objects.exclude(**{path: user.customer_id})
    for other in others[:5]:
        response = client.get(reverse(f"{basename}-detail", args=[other.pk]))
        assert response.status_code == 404


@pytest.mark.parametrize("role", ["internal", "external"])
def test_customer_users_cannot_write(users, client_for, role):
    client = client_for(users[role])
    own = users[role].customer
    response = client.patch(
        reverse("customer-detail", args=[own.pk]), {"name": "Hacked"}, format="json"
    )
    assert response.status_code == 403
    response = client.post(
        reverse("contact-list"), {"customer": own.pk, "name": "Spy"}, format="json"
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.name != "Hacked"
    assert not Contact.objects.filter(name="Spy").exists()


def test_customer_user_cannot_reference_another_customer(users, client_for):
    other = Customer.objects.get(code="meridian")
    client = client_for(users["manager"])
    # staff can; the external user is refused before any service runs
    response = client_for(users["external"]).post(
        reverse("agreement-list"),
        {"customer": other.pk, "reference": "Z", "title": "Z", "start_date": "2026-01-01"},
        format="json",
    )
    assert response.status_code in (400, 403)
    assert not Agreement.objects.filter(reference="Z").exists()
    assert client.get(reverse("customer-detail", args=[other.pk])).status_code == 200


def test_catalog_is_scoped_to_what_the_kind_is_offered(users, client_for):
    def codes(role):
        response = client_for(users[role]).get(reverse("service-list"))
        return {row["code"] for row in response.json()["results"]}

    assert "consulting" not in codes("internal") and "payroll" in codes("internal")
    assert "consulting" in codes("external") and "payroll" not in codes("external")
    assert {"consulting", "payroll"} <= codes("manager")


def test_anonymous_gets_nothing(client_for):
    for basename in [*ENDPOINTS, "service", "offering"]:
        assert client_for(None).get(reverse(f"{basename}-list")).status_code in (401, 403)


def test_token_auth(users, client):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=users["external"])
    response = client.get(reverse("agreement-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert {row["reference"] for row in response.json()["results"]} == {"CT-SKY-2026"}


def test_list_endpoints_use_a_constant_number_of_queries(
    users, client_for, django_assert_max_num_queries
):
    client = client_for(users["manager"])
    for basename in ["customer", "contact", "agreement", "agreementline", "service", "offering"]:
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"{basename}-list")).status_code == 200
