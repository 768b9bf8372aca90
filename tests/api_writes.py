"""Router-driven check of an app's API writes: a role that may not make a write gets 403 (or 404
for another customer's object) whatever the body, before any validation, and nothing changes.

Each app's test lists, per route name of its ``ROUTES`` (e.g. ``changerequest-assess``), the
demo roles that may attempt the write; every write route of the router must be listed, so a new
write action without an expectation fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from rest_framework.routers import SimpleRouter

ROLES = ("admin", "manager", "finance", "change", "senior", "internal", "external")
WRITES = ("post", "put", "patch", "delete")
#: bodies the refusal must not depend on: empty, and one that names plausible fields
BODIES = (
    {},
    {
        "title": "x",
        "verdict": "approve",
        "price_impact": "1.00",
        "risk": "low",
        "service_impact": "none",
        "cost_impact": "1.00",
        "note": "x",
        "name": "x",
        "quantity": "1",
        "justification": "x",
        "reason": "declined",
    },
)


@dataclass(frozen=True)
class WriteRoute:
    name: str
    url: str  # with {pk} for detail routes
    method: str
    viewset: type
    detail: bool


def write_routes(routes) -> list[WriteRoute]:
    """Every write (method, route) the app's router answers."""
    router = SimpleRouter()
    for prefix, viewset, basename in routes:
        router.register(prefix, viewset, basename=basename)
    found = []
    for pattern in router.urls:
        actions = getattr(pattern.callback, "actions", {}) or {}
        cls = pattern.callback.cls
        url = "/api/" + str(pattern.pattern).lstrip("^").rstrip("$")
        url = url.replace(f"(?P<pk>{getattr(cls, 'lookup_value_regex', '[^/.]+')})", "{pk}")
        url = url.replace("(?P<pk>[^/.]+)", "{pk}")
        for method in actions:
            if method in WRITES and method in cls.http_method_names:
                found.append(
                    WriteRoute(
                        name=pattern.name,
                        url=url,
                        method=method,
                        viewset=cls,
                        detail="{pk}" in url,
                    )
                )
    return found


def row_counts(labels) -> dict[str, int]:
    """Rows of every model of the given apps (nothing may change on a refusal)."""
    return {
        model._meta.label: model._default_manager.count()
        for label in labels
        for model in apps.get_app_config(label).get_models()
    }


def targets(route: WriteRoute, user) -> list[tuple[str, str]]:
    """(label, url) to try: the list URL, or an object the user sees ("own") and, for a
    customer user, one it does not ("other", which must be 404/403)."""
    if not route.detail:
        return [("none", route.url)]
    queryset = route.viewset.queryset.model._default_manager.order_by("pk")
    visible = queryset.visible_to(user)
    result = []
    own = visible.first() or queryset.first()
    if own is not None:
        result.append(("own", route.url.format(pk=own.pk)))
    if user.customer_id:
        other = queryset.exclude(pk__in=visible.values("pk")).first()
        if other is not None:
            result.append(("other", route.url.format(pk=other.pk)))
    return result


def refusals(routes, allowed: dict[str, set[str]], users, client_for, labels) -> list[str]:
    """Every write a role not in ``allowed[route]`` was not refused (403/404), or where a
    refusal changed data: an empty list is a pass."""
    problems = []
    for route in write_routes(routes):
        if route.name not in allowed:
            problems.append(f"{route.name}: no expectation (who may write it?)")
            continue
        for role in ROLES:
            user = users[role]
            client = client_for(user)
            for label, url in targets(route, user):
                if role in allowed[route.name] and label != "other":
                    continue
                for body in BODIES:
                    before = row_counts(labels)
                    response = getattr(client, route.method)(url, body, format="json")
                    after = row_counts(labels)
                    if response.status_code not in (403, 404):
                        problems.append(
                            f"{route.method.upper()} {url} as {role} ({label}) with {body or '{}'}"
                            f": {response.status_code} {response.content[:160]!r}"
                        )
                    elif before != after:
                        problems.append(f"{route.method.upper()} {url} as {role}: data changed")
    return problems
