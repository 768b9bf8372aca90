"""Issue 12: ``GET /api/review-packs/abc/`` (and ``/pdf/``) and ``/api/relationship-health/abc/``
answered 500. Every detail route of the demand, improvement and levels APIs, read from the router
(a new route is covered without editing this test), answers not found for a key that is not a
number or names nothing, for staff and for a customer user, and never a server error."""

from __future__ import annotations

import re

import pytest

from servicebook.config.api_urls import router

APPS = ("servicebook.demand.", "servicebook.improvement.", "servicebook.levels.")
KEYS = ["abc", "1.5", "-1", "99999999", "99999999999999999999999", "%20"]


def _detail_routes() -> list[tuple[str, str, tuple[str, ...]]]:
    """(basename, URL template with {pk}, methods) of every detail route of our apps."""
    routes = []
    for prefix, viewset, basename in router.registry:
        if not viewset.__module__.startswith(APPS):
            continue
        for route in router.routes:
            if "{lookup}" not in route.url:
                continue
            if hasattr(route, "mapping"):  # a plain route: retrieve (update/destroy if any)
                methods = [
                    m
                    for m, name in route.mapping.items()
                    if hasattr(viewset, name) and m in viewset.http_method_names
                ]
                if methods:
                    routes.append((basename, f"/api/{prefix}/{{pk}}/", tuple(methods)))
            else:  # dynamic detail actions (@action(detail=True))
                for action in viewset.get_extra_actions():
                    if action.detail:
                        path = action.url_path
                        methods = tuple(action.mapping)
                        routes.append((basename, f"/api/{prefix}/{{pk}}/{path}/", methods))
    return routes


ROUTES = _detail_routes()


def test_the_router_lists_the_routes_of_the_report():
    urls = {url for _, url, _ in ROUTES}
    for url in (
        "/api/review-packs/{pk}/",
        "/api/review-packs/{pk}/pdf/",
        "/api/relationship-health/{pk}/",
        "/api/demands/{pk}/",
        "/api/tickets/{pk}/",
    ):
        assert url in urls


@pytest.mark.parametrize("role", ["admin", "external"])
@pytest.mark.parametrize(("basename", "url", "methods"), ROUTES, ids=[r[1] for r in ROUTES])
def test_unknown_or_malformed_key_is_not_found(users, client_for, role, basename, url, methods):
    client = client_for(users[role])
    for key in KEYS:
        target = url.format(pk=key)
        for method in methods:
            response = getattr(client, method)(target, {}, format="json")
            assert response.status_code < 500, (method, target, response.status_code)
            # not found; a route the role may not use at all may say so first (403)
            assert response.status_code in (403, 404), (method, target, response.status_code)
            if response.status_code == 403:  # e.g. justify: the senior manager's, not admin's
                detail = response.json().get("detail", "")
                needs_role = "needs" in detail and "role" in detail
                assert role == "external" or needs_role or not re.match(r"^[0-9]+$", key)
