"""Each customer's relationship owner (the provider's business relationship manager) and
"My customers" (issue 18)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicebook.core.errors import PermissionDenied
from servicebook.core.models import User
from servicebook.parties import owners, services
from servicebook.parties.models import Customer, Provider

LIST = reverse("parties:list")
MINE = reverse("parties:mine")
#: the demo customers whose relationship the service manager owns
MANAGERS = ["finance-dept", "marketing", "meridian", "skybridge", "westlake"]


def customer(code):
    return Customer.objects.get(code=code)


def codes(response):
    return sorted(row.record.code for row in response.context["table"].page.object_list)


# --- the service ---------------------------------------------------------------------------------


def test_the_demo_gives_most_customers_an_owner(users):
    assert customer("skybridge").relationship_owner == users["manager"]
    assert customer("rnd").relationship_owner == users["admin"]
    assert customer("pacific").relationship_owner is None


def test_a_new_owner_is_recorded_in_the_customers_history(users):
    pacific = owners.set_relationship_owner(
        actor=users["manager"], customer=customer("pacific"), owner=users["manager"]
    )
    assert pacific.relationship_owner == users["manager"]
    event = pacific.events.order_by("-at", "-pk").first()
    assert event.actor == users["manager"]
    assert event.note == "Relationship owner: — → Maya Manager"


@pytest.mark.parametrize("role", ["internal", "external", "internal-requester"])
def test_a_customer_user_can_never_own_a_relationship(users, role):
    with pytest.raises(ValidationError, match="user of a customer") as error:
        owners.set_relationship_owner(
            actor=users["admin"], customer=customer("pacific"), owner=users[role]
        )
    assert "relationship_owner" in error.value.message_dict
    assert customer("pacific").relationship_owner is None


def test_a_user_without_a_provider_role_or_disabled_cannot_own(users):
    nobody = User.objects.create_user(username="nobody", password="x-long-password-1")
    with pytest.raises(ValidationError, match="holds no provider role"):
        owners.set_relationship_owner(
            actor=users["admin"], customer=customer("pacific"), owner=nobody
        )
    users["finance"].is_active = False
    users["finance"].save()
    with pytest.raises(ValidationError, match="disabled"):
        owners.set_relationship_owner(
            actor=users["admin"], customer=customer("pacific"), owner=users["finance"]
        )


@pytest.mark.parametrize("role", ["finance", "change", "senior", "internal", "external"])
def test_only_service_managers_and_admins_set_owners(users, role):
    with pytest.raises(PermissionDenied):
        owners.set_relationship_owner(
            actor=users[role], customer=customer("pacific"), owner=users["manager"]
        )


def test_create_and_update_customer_check_the_owner(users):
    fields = dict(
        kind="external",
        name="Owned SA",
        code="owned",
        legal_name="Owned SA",
        jurisdiction="FR",
        currency="EUR",
        payment_terms_days=30,
    )
    with pytest.raises(ValidationError, match="user of a customer"):
        services.create_customer(
            actor=users["manager"],
            provider=Provider.current(),
            relationship_owner=users["external"],
            **fields,
        )
    created = services.create_customer(
        actor=users["manager"],
        provider=Provider.current(),
        relationship_owner=users["change"],
        **fields,
    )
    assert created.relationship_owner == users["change"]
    updated = services.update_customer(
        actor=users["manager"], customer=created, relationship_owner=None, description="x"
    )
    assert updated.relationship_owner is None and updated.description == "x"
    with pytest.raises(ValidationError):
        services.update_customer(
            actor=users["manager"], customer=created, relationship_owner=users["internal"]
        )


# --- the pages ----------------------------------------------------------------------------------


def test_the_customer_list_shows_and_filters_by_owner(users, web_for):
    client = web_for(users["admin"])
    response = client.get(LIST)
    page = response.content.decode()
    assert "Relationship owner" in page and "Maya Manager" in page
    managers = codes(client.get(LIST, {"owner": users["manager"].pk}))
    assert managers == MANAGERS
    assert codes(client.get(LIST, {"owner": "none"})) == ["pacific"]
    assert codes(client.get(LIST, {"owner": "me"})) == ["hr", "orion", "rnd"]
    # the filter offers provider staff only, never a customer user
    choices = dict(response.context["filter"].form.fields["owner"].choices)
    assert str(users["manager"].pk) in choices
    assert str(users["internal"].pk) not in choices


def test_my_customers_lists_the_users_own_relationships(users, web_for):
    client = web_for(users["manager"])
    response = client.get(MINE)
    assert response.status_code == 200
    assert codes(response) == MANAGERS
    assert "My customers" in response.content.decode()
    assert codes(client.get(MINE, {"owner": "none"})) == ["pacific"]
    assert codes(web_for(users["senior"]).get(MINE)) == []


def test_my_customers_exports_the_same_rows(users, web_for):
    response = web_for(users["manager"]).get(MINE, {"_export": "csv"})
    text = response.content.decode("utf-8-sig")
    assert "Relationship owner" in text.splitlines()[0]
    assert "SkyBridge" in text and "Pacific" not in text


def test_the_navigation_offers_my_customers_to_staff(users, web_for):
    assert MINE in web_for(users["change"]).get(reverse("web:home")).content.decode()


def test_a_customer_user_is_sent_to_its_own_page_and_sees_its_contact(users, web_for):
    client = web_for(users["external"])
    response = client.get(MINE)
    assert response.status_code == 302
    assert response["Location"] == reverse("parties:detail", args=[users["external"].customer_id])
    page = client.get(response["Location"]).content.decode()
    assert "Your contact at the provider" in page and "Maya Manager" in page


def test_the_customer_page_shows_the_owner_to_staff(users, web_for):
    page = web_for(users["finance"]).get(reverse("parties:detail", args=[customer("rnd").pk]))
    text = page.content.decode()
    assert "Relationship owner" in text and "Ada Admin" in text


def test_the_customer_form_sets_the_owner_and_offers_staff_only(users, web_for):
    client = web_for(users["manager"])
    pacific = customer("pacific")
    url = reverse("parties:edit", args=[pacific.pk])
    form = client.get(url).context["form"]
    offered = set(form.fields["relationship_owner"].queryset)
    assert users["manager"] in offered and users["admin"] in offered
    assert users["internal"] not in offered and users["external"] not in offered
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "kind" and not isinstance(value, bool)
    }
    data["relationship_owner"] = users["finance"].pk
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    assert customer("pacific").relationship_owner == users["finance"]
    data["relationship_owner"] = users["external"].pk
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["relationship_owner"]


# --- the API ------------------------------------------------------------------------------------


def test_staff_read_the_owner_with_its_id_and_filter_by_it(users, client_for):
    client = client_for(users["finance"])
    body = client.get(f"/api/customers/{customer('skybridge').pk}/").json()
    assert body["relationship_owner"] == {
        "id": users["manager"].pk,
        "name": "Maya Manager",
        "email": users["manager"].email,
    }
    listed = client.get("/api/customers/", {"owner": "none"}).json()
    assert [row["code"] for row in listed["results"]] == ["pacific"]
    mine = client_for(users["manager"]).get("/api/customers/", {"owner": "me"}).json()
    assert sorted(row["code"] for row in mine["results"]) == MANAGERS
    assert client.get("/api/customers/", {"owner": "nobody"}).status_code == 400


def test_a_customer_user_sees_its_contact_person_without_an_id(users, client_for):
    body = client_for(users["external"]).get(f"/api/customers/{customer('skybridge').pk}/").json()
    assert body["relationship_owner"] == {"name": "Maya Manager", "email": users["manager"].email}
    listed = client_for(users["internal"]).get("/api/customers/", {"owner": "none"}).json()
    assert listed["count"] == 0


def test_the_api_sets_the_owner_through_the_service(users, client_for):
    client = client_for(users["manager"])
    url = f"/api/customers/{customer('pacific').pk}/"
    response = client.patch(url, {"relationship_owner": users["change"].pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["relationship_owner"]["name"] == "Chen Change"
    response = client.patch(url, {"relationship_owner": users["internal"].pk}, format="json")
    assert response.status_code == 400
    assert "relationship_owner" in response.json()
    response = client_for(users["finance"]).patch(url, {"relationship_owner": None}, format="json")
    assert response.status_code == 403
    assert customer("pacific").relationship_owner == users["change"]
