"""Refusals and errors render inside the site layout with their reason, never a bare page."""

import pytest
from django.urls import path, reverse

from servicebook.config import urls as site_urls
from servicebook.core.errors import DomainError
from servicebook.core.errors import PermissionDenied as DomainPermissionDenied


def refused_by_a_rule(request):
    raise DomainError("a failed due diligence can never be waived")


def refused_by_role(request):
    raise DomainPermissionDenied("only finance may close a period")


def broken(request):
    raise RuntimeError("secret internals must not show")


# This module is also a URL configuration: the site's pages plus three that refuse or fail.
urlpatterns = [
    path("test-refusal/rule/", refused_by_a_rule),
    path("test-refusal/role/", refused_by_role),
    path("test-refusal/broken/", broken),
    *site_urls.urlpatterns,
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


def assert_in_layout(response, status: int, reason: str):
    html = response.content.decode()
    assert response.status_code == status
    assert '<nav class="navbar' in html and "servicebook.css" in html, "not inside the layout"
    assert 'data-testid="refusal"' in html and f'data-status="{status}"' in html
    assert reason in html
    assert "403 Forbidden" not in html


def test_a_page_the_role_may_not_see_is_refused_in_the_layout_with_the_reason(users, web_for):
    response = web_for(users["external"]).get(reverse("finance:close"))
    assert_in_layout(response, 403, "Your role does not allow this page.")
    assert 'data-testid="whoami"' in response.content.decode()  # signed-in navigation kept


@pytest.mark.urls(__name__)
def test_a_domain_refusal_on_a_page_is_a_409_in_the_layout(users, web_for):
    response = web_for(users["manager"]).get("/test-refusal/rule/")
    assert_in_layout(response, 409, "a failed due diligence can never be waived")


@pytest.mark.urls(__name__)
def test_a_role_refusal_raised_by_a_service_is_a_403_in_the_layout(users, web_for):
    response = web_for(users["manager"]).get("/test-refusal/role/")
    assert_in_layout(response, 403, "only finance may close a period")


def test_an_unknown_page_is_a_404_in_the_layout(users, web_for, settings):
    settings.DEBUG = False  # with DEBUG on, Django shows its technical 404 page instead
    response = web_for(users["internal"]).get("/no-such-page/")
    assert_in_layout(response, 404, "There is no such page, or it is not visible to you.")


@pytest.mark.urls(__name__)
def test_a_server_error_is_a_500_in_the_layout_without_internals(users, client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(users["manager"])
    response = client.get("/test-refusal/broken/")
    assert_in_layout(response, 500, "The server hit an error.")
    assert "secret internals" not in response.content.decode()


def test_the_api_keeps_its_json_refusals(users, client_for):
    response = client_for(users["external"]).get("/api/no-such-route/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no such page, or it is not visible to you."}


def test_a_missing_record_is_not_named_by_its_class(web_for, users):
    response = web_for(users["finance"]).get("/finance/ledger/entries/99999999/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "JournalEntry" not in text and "matches the given query" not in text
    assert "There is no such page" in text


def test_a_role_refusal_names_roles_in_words(client_for, users):
    response = client_for(users["change"]).post(
        "/api/journal-entries/", {"period": "2026-11", "memo": "x", "lines": []}, format="json"
    )
    assert response.status_code == 403
    assert "provider_admin" not in response.json()["detail"]
