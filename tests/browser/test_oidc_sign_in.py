"""Single sign-on in a real browser: the sign-in page's button, the organization's OpenID Connect
provider (oidc-provider-mock, on loopback) and back, signed in as a customer's person who lands
on its own customer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from servicebook.core.models import User
from servicebook.parties.models import Customer
from servicebook.web.sso import username_for
from tests.web.oidc_provider import running_provider, set_claims, sso_settings


@pytest.fixture
def issuer(settings):
    with running_provider() as url:
        sso_settings(settings, url)
        yield url


def test_a_customer_user_signs_in_through_the_provider_and_lands_on_its_customer(
    page, issuer, shot
):
    set_claims(
        issuer,
        "nadia@skybridge.example",
        email="nadia@skybridge.example",
        given_name="Nadia",
        family_name="Benali",
        groups=["customer:skybridge"],
    )
    page.goto("/login/")
    button = page.get_by_role("link", name="Sign in with Example Corp")
    expect(button).to_be_visible()
    expect(page.locator("#id_username")).to_be_visible()  # the local form stays beside it
    shot("login")
    button.click()

    # at the provider: its own authorization form, on its own address
    page.wait_for_url(re.compile(re.escape(issuer) + r"/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill("nadia@skybridge.example")
    page.get_by_role("button", name="Authorize").click()

    # back at Servicebook, signed in as the customer's person, on its own customer
    expect(page.get_by_test_id("whoami")).to_have_text("Nadia Benali")
    expect(page.locator("h1")).to_have_text("SkyBridge Airlines")
    shot("home")
    skybridge = Customer.objects.get(code="skybridge")
    page.goto("/customers/")
    page.wait_for_url(f"**/customers/{skybridge.pk}/")
    expect(page.locator("h1")).to_contain_text("SkyBridge Airlines")
    user = User.objects.get(username=username_for({"sub": "nadia@skybridge.example"}))
    assert user.customer_id == skybridge.pk


def test_a_person_without_a_role_is_refused_with_the_reason(page, issuer):
    set_claims(issuer, "olga", email="olga@example.org", groups=["everyone"])
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with Example Corp").click()
    page.get_by_placeholder("sub").fill("olga")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_test_id("refusal-reason")).to_contain_text("You have no role in Servicebook")
    expect(page.get_by_test_id("whoami")).to_have_count(0)
