"""Single sign-on against a real OpenID Connect provider on loopback (oidc-provider-mock).

The authorization code flow runs for real: Servicebook sends the browser to the provider, the
provider's authorization form is posted (as a person would), and the callback exchanges the code
at the provider's token endpoint, checks the ID token against its published keys and reads the
user info: nothing in Servicebook is mocked.
"""

from __future__ import annotations

import html
from urllib.parse import quote, urlsplit

import pytest
import requests
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import reverse

from servicebook.core.models import User
from servicebook.core.roles import is_provider_staff, roles_of
from servicebook.parties.models import Customer
from servicebook.web.sso import username_for
from tests.web.oidc_provider import running_provider, set_claims, sso_settings


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def issuer(settings, users):
    with running_provider() as url:
        sso_settings(settings, url)
        yield url


def sso_sign_in(client, issuer, sub, *, next_url=None, address="10.0.0.7", deny=False):
    """Start at Servicebook, authorize at the provider, come back: the callback's response."""
    start_url = reverse("sso-start") + (f"?next={quote(next_url)}" if next_url else "")
    start = client.get(start_url, REMOTE_ADDR=address)
    assert start.status_code == 302, start.content[:300]
    assert start["Location"].startswith(f"{issuer}/oauth2/authorize?")
    form = {"action": "deny"} if deny else {"sub": sub}
    answer = requests.post(start["Location"], data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    back = urlsplit(answer.headers["Location"])
    assert back.path == reverse("sso-callback")
    return client.get(f"{back.path}?{back.query}", REMOTE_ADDR=address)


def sso_user(sub):
    return User.objects.filter(username=username_for({"sub": sub})).first()


def refusal_of(response) -> str:
    assert response.status_code == 403, response.content[:300]
    page = response.content.decode()
    assert "Sign-in refused" in page and 'data-testid="refusal-reason"' in page
    return html.unescape(page)


def test_without_settings_nothing_changes(client, users):
    assert not django_settings.OIDC_RP_CLIENT_ID
    assert "servicebook.web.sso.SignOnBackend" not in django_settings.AUTHENTICATION_BACKENDS
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with" not in page and reverse("sso-start") not in page
    assert client.get(reverse("sso-start")).status_code == 404
    assert client.get(reverse("sso-callback") + "?code=x&state=y").status_code == 404


def test_the_sign_in_page_offers_the_provider_beside_the_local_form(client, issuer):
    page = client.get(reverse("login") + "?next=/customers/").content.decode()
    assert "Sign in with Example Corp" in page
    assert f'href="{reverse("sso-start")}?next=/customers/"' in page
    assert 'id="id_username"' in page and 'id="id_password"' in page


def test_a_customer_user_is_created_on_first_sign_in_and_lands_on_its_customer(client, issuer):
    set_claims(
        issuer,
        "alice@skybridge.example",
        email="alice@skybridge.example",
        given_name="Alice",
        family_name="Martin",
        groups=["customer:skybridge", "all-staff"],
    )
    response = sso_sign_in(client, issuer, "alice@skybridge.example")
    assert response.status_code == 302 and response["Location"] == reverse("web:home")
    user = sso_user("alice@skybridge.example")
    skybridge = Customer.objects.get(code="skybridge")
    assert user.customer == skybridge and user.get_full_name() == "Alice Martin"
    assert user.email == "alice@skybridge.example" and not user.has_usable_password()
    assert roles_of(user) == {skybridge.policy.user_role} == {"external_customer"}
    assert not is_provider_staff(user) and not user.is_staff and not user.is_superuser
    home = client.get(reverse("web:home")).content.decode()
    assert "SkyBridge Airlines" in home and "Provider overview" not in home
    # the customers list sends a customer user to its own customer's page
    own = client.get(reverse("parties:list"))
    assert own.status_code == 302
    assert own["Location"] == reverse("parties:detail", args=[skybridge.pk])


def test_the_next_page_is_kept_through_the_provider(client, issuer):
    set_claims(issuer, "bob", email="bob@example.org", groups=["it-finance"])
    response = sso_sign_in(client, issuer, "bob", next_url="/customers/")
    assert response.status_code == 302 and response["Location"] == "/customers/"


def test_roles_are_synced_from_the_groups_at_every_sign_in(client, issuer):
    set_claims(issuer, "carol", email="carol@example.org", groups=["it-finance", "unrelated"])
    assert sso_sign_in(client, issuer, "carol").status_code == 302
    carol = sso_user("carol")
    assert roles_of(carol) == {"finance"} and carol.customer is None and is_provider_staff(carol)
    client.logout()
    set_claims(issuer, "carol", email="carol@example.org", groups=["service_manager"])
    assert sso_sign_in(client, issuer, "carol").status_code == 302
    carol = User.objects.get(pk=carol.pk)
    assert roles_of(carol) == {"service_manager"}
    assert User.objects.filter(email="carol@example.org").count() == 1
    # moved to a customer by the organization: staff roles go, the customer comes
    client.logout()
    set_claims(issuer, "carol", email="carol@example.org", groups=["customer:marketing"])
    assert sso_sign_in(client, issuer, "carol").status_code == 302
    carol = User.objects.get(pk=carol.pk)
    assert carol.customer.code == "marketing" and roles_of(carol) == {"internal_customer"}
    assert not is_provider_staff(carol)


@pytest.mark.parametrize(
    ("groups", "reason"),
    [
        (["all-staff"], "You have no role in Servicebook"),
        ([], "You have no role in Servicebook"),
        (["customer:nosuchcode"], "No customer has the code “nosuchcode”"),
        (["customer:skybridge", "it-finance"], "a customer's person never holds a staff role"),
        (["customer:skybridge", "customer:marketing"], "more than one customer"),
        (["external_customer"], "name no customer"),
    ],
)
def test_claims_that_give_no_clear_access_are_refused_and_nothing_is_written(
    client, issuer, groups, reason
):
    before = User.objects.count()
    set_claims(issuer, "dave", email="dave@example.org", groups=groups)
    html = refusal_of(sso_sign_in(client, issuer, "dave"))
    assert reason in html
    assert User.objects.count() == before and sso_user("dave") is None
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("web:home")).status_code == 302  # still not signed in


def test_a_role_name_that_does_not_exist_in_the_settings_is_refused(client, issuer, settings):
    settings.SERVICEBOOK_OIDC_ROLE_GROUPS = "it-boss=overlord"
    set_claims(issuer, "erin", email="erin@example.org", groups=["it-boss"])
    refusal = refusal_of(sso_sign_in(client, issuer, "erin"))
    assert "a role that does not exist (overlord)" in refusal


def test_denying_at_the_provider_is_refused_with_its_reason(client, issuer):
    html = refusal_of(sso_sign_in(client, issuer, "frank", deny=True))
    assert "Example Corp did not sign you in (" in html


def test_a_deactivated_account_stays_out(client, issuer):
    set_claims(issuer, "gina", email="gina@example.org", groups=["it-service"])
    assert sso_sign_in(client, issuer, "gina").status_code == 302
    User.objects.filter(pk=sso_user("gina").pk).update(is_active=False)
    client.logout()
    assert "deactivated" in refusal_of(sso_sign_in(client, issuer, "gina"))


def test_a_local_account_is_never_taken_over_through_its_email(client, issuer, users):
    admin = users["admin"]
    set_claims(issuer, "mallory", email=admin.email or "admin@example.org", groups=["it-finance"])
    assert sso_sign_in(client, issuer, "mallory").status_code == 302
    assert int(client.session["_auth_user_id"]) == sso_user("mallory").pk != admin.pk
    admin.refresh_from_db()
    assert admin.is_superuser or roles_of(admin) == {"provider_admin"}


def test_local_accounts_keep_working_beside_single_sign_on(client, issuer):
    response = client.post(
        reverse("login"), {"username": "manager", "password": "servicebook-demo"}
    )
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 200


def test_refused_sign_ins_count_toward_the_address_lockout(client, issuer):
    set_claims(issuer, "henry", email="henry@example.org", groups=["nothing"])
    set_claims(issuer, "iris", email="iris@example.org", groups=["it-service"])
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        sso_sign_in(client, issuer, "henry", address="10.0.0.66")
    assert AccessAttempt.objects.filter(ip_address="10.0.0.66").exists()
    locked = sso_sign_in(client, issuer, "iris", address="10.0.0.66")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # the lock is the address's: from elsewhere, single sign-on still works
    assert sso_sign_in(client, issuer, "iris", address="10.0.0.67").status_code == 302


def test_the_provider_down_is_said_plainly(client, users, settings):
    with running_provider() as url:
        pass  # started and stopped: nothing answers there any more
    sso_settings(settings, url)
    response = client.get(reverse("sso-start"))
    assert response.status_code == 503
    assert "Example Corp cannot be reached right now" in response.content.decode()


def test_explicit_endpoints_work_without_discovery(client, users, settings):
    with running_provider() as url:
        document = requests.get(f"{url}/.well-known/openid-configuration", timeout=10).json()
        sso_settings(
            settings,
            "",
            OIDC_OP_AUTHORIZATION_ENDPOINT=document["authorization_endpoint"],
            OIDC_OP_TOKEN_ENDPOINT=document["token_endpoint"],
            OIDC_OP_USER_ENDPOINT=document["userinfo_endpoint"],
            OIDC_OP_JWKS_ENDPOINT=document["jwks_uri"],
        )
        set_claims(url, "paula", email="paula@example.org", groups=["change_manager"])
        assert sso_sign_in(client, url, "paula").status_code == 302
    assert roles_of(sso_user("paula")) == {"change_manager"}
