"""Sign-in throttling: too many failures lock the account and the address, then the lock lifts."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PASSWORD = "servicebook-demo"
LOCKED = "Too many failed sign-ins for this account or from this address"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(client, username, times, address="10.0.0.1"):
    """``times`` wrong passwords: the form again with its error, and the lockout at the limit."""
    for number in range(1, times + 1):
        response = sign_in(client, username, "wrong-password", address)
        assert response.status_code == (429 if number >= settings.AXES_FAILURE_LIMIT else 200)


def test_after_too_many_failures_the_right_password_is_refused_with_a_clear_message(client, users):
    fail(client, "manager", settings.AXES_FAILURE_LIMIT)
    response = sign_in(client, "manager", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html and "15 minutes" in html and '<nav class="navbar' in html
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("web:home")).status_code == 302  # still not signed in


def test_failures_below_the_limit_do_not_lock_and_a_success_resets_them(client, users):
    fail(client, "manager", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "manager", PASSWORD).status_code == 302
    client.logout()
    fail(client, "manager", settings.AXES_FAILURE_LIMIT - 1)  # counted afresh
    assert sign_in(client, "manager", PASSWORD).status_code == 302


def test_the_account_is_locked_from_every_address(client, users):
    fail(client, "finance", settings.AXES_FAILURE_LIMIT, address="10.0.0.1")
    assert sign_in(client, "finance", PASSWORD, address="10.9.9.9").status_code == 429


def test_the_address_is_locked_for_every_account(client, users):
    for number in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, f"guess-{number}", "wrong-password", address="10.0.0.7")
        assert response.status_code in (200, 429)
    assert sign_in(client, "change", PASSWORD, address="10.0.0.7").status_code == 429
    assert sign_in(client, "change", PASSWORD, address="10.0.0.8").status_code == 302


def test_the_lockout_lifts_after_the_cool_off(client, users):
    fail(client, "manager", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "manager", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )
    assert sign_in(client, "manager", PASSWORD).status_code == 302


def test_an_administrator_lifts_the_lockout_at_once(client, users):
    fail(client, "manager", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "manager", PASSWORD).status_code == 429
    call_command("axes_reset_username", "manager", verbosity=0)
    assert sign_in(client, "manager", PASSWORD).status_code == 302


def test_the_admin_lists_the_lockouts(client, users):
    fail(client, "manager", settings.AXES_FAILURE_LIMIT)
    client.force_login(users["admin"])
    response = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 200 and "manager" in response.content.decode()


def test_api_token_obtain_is_locked_too(users):
    api = APIClient(REMOTE_ADDR="10.0.0.3")
    url = reverse("api-token")
    for number in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = api.post(url, {"username": "external", "password": "nope"})
        assert response.status_code == (429 if number == settings.AXES_FAILURE_LIMIT else 400)
    response = api.post(url, {"username": "external", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out" and LOCKED in response.json()["detail"]
    assert not Token.objects.filter(user=users["external"]).exists()


def test_api_token_obtain_works_with_the_right_password(users):
    response = APIClient().post(
        reverse("api-token"), {"username": "external", "password": PASSWORD}
    )
    assert response.status_code == 200 and response.json()["token"]


def test_invalid_tokens_from_one_address_are_refused_after_the_limit(users):
    good = Token.objects.create(user=users["external"]).key
    url = "/api/agreements/"
    elsewhere = APIClient(REMOTE_ADDR="10.0.0.5", HTTP_AUTHORIZATION=f"Token {good}")
    attacker = APIClient(REMOTE_ADDR="10.0.0.4")
    for number in range(settings.SERVICEBOOK_TOKEN_FAILURE_LIMIT):
        attacker.credentials(HTTP_AUTHORIZATION=f"Token guess{number:035d}")
        assert attacker.get(url).status_code in (401, 403)
    attacker.credentials(HTTP_AUTHORIZATION=f"Token {good}")
    response = attacker.get(url)
    assert (
        response.status_code == 429 and "Too many invalid API tokens" in response.json()["detail"]
    )
    assert elsewhere.get(url).status_code == 200  # other addresses are not affected


def test_many_good_sign_ins_are_never_throttled(client, users):
    for _ in range(3 * settings.AXES_FAILURE_LIMIT):
        assert sign_in(client, "internal", PASSWORD).status_code == 302
        client.logout()
