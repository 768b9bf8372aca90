"""Every write the API router maps for an app's viewsets, tried by users who may not make it.

Driven from the router (``servicebook.config.api_urls.router``), not a hand list: a new write
action of the app is covered the day it is added. Used by the agreements and levels tests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Write:
    url_name: str
    method: str
    action: str
    viewset: type
    detail: bool

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url_name} ({self.viewset.__name__}.{self.action})"


def writes_of(routes) -> list[Write]:
    """Every (route, write method) the router maps for the viewsets of an app's ``ROUTES``."""
    from servicebook.config.api_urls import router

    viewsets = {viewset for _, viewset, _ in routes}
    found = {}
    for pattern in router.urls:
        view = getattr(pattern.callback, "cls", None)
        if view not in viewsets:
            continue
        detail = "pk" in pattern.pattern.regex.groupindex
        for method, action in pattern.callback.actions.items():
            # the router maps update/partial_update even where the viewset answers them 405
            if method in WRITE_METHODS and method in view.http_method_names:
                write = Write(pattern.name, method, action, view, detail)
                found[(write.url_name, method)] = write
    return sorted(found.values(), key=str)


def objects_for(write: Write, user) -> list:
    """For a detail route: the user's own object (when it has one) and another customer's."""
    queryset = write.viewset.queryset.model._default_manager.order_by("pk")
    visible = queryset.visible_to(user)
    own = visible.first()
    other = queryset.exclude(pk__in=visible.values("pk")).first()
    return [obj for obj in (own, other) if obj is not None]


def bodies_for(client_of_staff, url) -> list:
    """Bodies to try: empty, a plausible one (the object as staff reads it), not an object."""
    bodies = [{}, [], "x"]
    if url is not None:
        response = client_of_staff.get(url)
        if response.status_code == 200:
            bodies.insert(1, response.json())
    return bodies


def fingerprint(*app_labels: str) -> str:
    """A digest of every row of the apps' models (to show that a refusal changed nothing)."""
    digest = hashlib.sha256()
    for label in app_labels:
        for model in apps.get_app_config(label).get_models():
            rows = list(model._default_manager.order_by("pk").values())
            digest.update(model._meta.label.encode())
            digest.update(json.dumps(rows, cls=DjangoJSONEncoder, sort_keys=True).encode())
    return digest.hexdigest()


def refusals(writes, user, client, staff_client) -> list[str]:
    """Send every write as ``user`` with every body; list each one not answered 403."""
    wrong = []
    for write in writes:
        urls = [] if write.detail else [(reverse(write.url_name), None)]
        if write.detail:
            for obj in objects_for(write, user):
                url = reverse(write.url_name, kwargs={"pk": obj.pk})
                read = reverse(write.url_name.rsplit("-", 1)[0] + "-detail", kwargs={"pk": obj.pk})
                urls.append((url, read))
        for url, read in urls:
            for body in bodies_for(staff_client, read):
                response = client.generic(
                    write.method.upper(),
                    url,
                    json.dumps(body),
                    content_type="application/json",
                )
                if response.status_code != 403:
                    wrong.append(f"{write} {url} body={str(body)[:60]} → {response.status_code}")
                elif "needs one of these roles" not in response.json().get("detail", ""):
                    wrong.append(f"{write} {url}: 403 without its reason {response.json()}")
    return wrong
