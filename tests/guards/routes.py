"""The site's routes, read from the URL resolver and the API router (never a hand list).

Each :class:`Route` knows its name (``"parties:detail"``, ``"agreement-list"``), its pattern, the
view behind it, the HTTP methods it answers and, for API routes, the model of its viewset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

#: Prefixes the guards leave out: Django's own admin site (only ``is_staff`` users, Django's
#: permission system) is checked by one family rule in the matrix, not route by route.
ADMIN_PREFIX = "admin/"
WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    view: object
    methods: tuple[str, ...]
    params: tuple[str, ...]
    is_api: bool
    model: type | None = field(default=None, compare=False)

    @property
    def writes(self) -> tuple[str, ...]:
        return tuple(method for method in self.methods if method in WRITE_METHODS)


def _view_of(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None) or callback


def _methods(callback, view) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route: exactly the methods the router mapped
        return tuple(method for method in ("get", *WRITE_METHODS) if method in actions)
    if isinstance(view, type):
        names = getattr(view, "http_method_names", ["get"])
        found = [m for m in ("get", "post", "delete") if m in names and hasattr(view, m)]
        # APIView (schema, token) define every handler through dispatch; FormView's put == post
        return tuple(found) or ("get",)
    return ("get",)


def _walk(resolver, prefix="", namespace=None):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, namespace


def all_routes() -> list[Route]:
    """Every named route of the site but Django's admin and DRF's ``.json`` format suffixes."""
    routes = {}
    for pattern, entry, namespace in _walk(get_resolver()):
        if pattern.startswith(ADMIN_PREFIX) or "(?P<format>" in pattern or "format>" in pattern:
            continue
        name = entry.name
        full = f"{namespace}:{name}" if namespace and name else name
        assert full, f"every route has a name: {pattern}"
        view = _view_of(entry.callback)
        model = None
        queryset = getattr(view, "queryset", None)
        if queryset is not None:
            model = queryset.model
        params = _params(pattern)
        routes[full] = Route(
            name=full,
            pattern=pattern,
            view=view,
            methods=_methods(entry.callback, view),
            params=params,
            is_api=getattr(entry.callback, "actions", None) is not None
            or pattern.startswith("api/"),
            model=model,
        )
    return sorted(routes.values(), key=lambda route: route.name)


def _params(pattern: str) -> tuple[str, ...]:
    return tuple(a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern))
