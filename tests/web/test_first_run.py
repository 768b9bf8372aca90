"""The first-run page (issue 18): set up a provider from the browser on an empty database."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.finance.models import TaxRate
from servicebook.parties.models import Provider

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Acme IT Services",
    "sector": "government",
    "currency": "EUR",
    "country": "fr",
    "admin_username": "ada",
    "admin_email": "ada@example.org",
    "admin_password": "a long pass phrase 42",
    "admin_password_again": "a long pass phrase 42",
}


@pytest.fixture(autouse=True)
def empty_database():
    """The test database holds the demo: empty it (the test's transaction rolls it back). Each
    test client loads its own middleware, so no earlier request's provider is remembered."""
    call_command("flush", interactive=False, verbosity=0)


def test_sign_in_and_home_lead_to_the_first_run_page_while_no_provider_exists():
    client = Client()
    for path in ("/", "/login/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == "/setup/"
    page = client.get("/setup/")
    assert page.status_code == 200
    assert b"Set up your provider" in page.content
    for name in ("name", "sector", "currency", "country", "admin_username", "admin_email"):
        assert f'for="id_{name}"'.encode() in page.content


def test_setting_up_creates_the_provider_and_signs_the_administrator_in():
    client = Client()
    response = client.post("/setup/", GOOD)
    assert response.status_code == 302 and response["Location"] == "/"
    provider = Provider.objects.get()
    assert (provider.name, provider.sector, provider.country) == (
        "Acme IT Services",
        "government",
        "FR",
    )
    admin = User.objects.get(username="ada")
    assert admin.groups.filter(name=Role.PROVIDER_ADMIN.value).exists()
    # the home country's VAT rates to start with (a French provider invoices at 20 %)
    rates = {rate.kind: str(rate.rate) for rate in TaxRate.objects.filter(jurisdiction="FR")}
    assert rates == {"standard": "20.00", "reduced": "5.50", "exempt": "0.00"}
    home = client.get("/")
    assert home.status_code == 200 and b"Acme IT Services is set up" in home.content
    # afterwards the page is gone, for everybody
    assert client.get("/setup/").status_code == 404
    assert Client().post("/setup/", GOOD).status_code == 404
    assert Provider.objects.count() == 1
    assert Client().get("/login/").status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"admin_password_again": "something else 42"}, "admin_password_again", "differ"),
        ({"admin_email": "not an address"}, "admin_email", "valid email"),
        ({"country": "France"}, "country", "at most 2 characters"),
        ({"country": "uk"}, "country", "use GB"),
        ({"country": "ZZ"}, "country", "not an ISO 3166-1"),
        ({"admin_password": "short", "admin_password_again": "short"}, "admin_password", "short"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_written(change, field, words):
    response = Client().post("/setup/", {**GOOD, **change})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and words.lower() in " ".join(errors[field]).lower()
    assert not Provider.objects.exists() and not User.objects.exists()


def test_an_existing_user_name_is_refused_on_its_field():
    User.objects.create_user(username="ada", password="x")
    response = Client().post("/setup/", GOOD)
    assert "exists already" in " ".join(response.context["form"].errors["admin_username"])
    assert not Provider.objects.exists()
