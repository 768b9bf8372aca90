"""The permission matrix's machinery: roles, objects for each route, one request, its checks.

Kept apart from the test module so the expectation table there reads on its own.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse

STAFF = frozenset({"admin", "manager", "finance", "change", "senior"})
CUSTOMERS = frozenset({"internal", "external"})
ALL = STAFF | CUSTOMERS
FIN = frozenset({"admin", "finance"})
NOBODY = frozenset()
#: ``None`` is the anonymous visitor.
ROLES = ("admin", "manager", "finance", "change", "senior", "internal", "external", None)

REFUSED = {401, 403, 404, 405}


@dataclass(frozen=True)
class Finding:
    """One broken expectation: ``kind`` names the rule, ``detail`` the response."""

    route: str
    role: str
    method: str
    kind: str
    path: str = ""
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.route, self.role, self.method, self.kind)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} as {self.role}: {self.kind} ({self.detail})"


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def body_of(response) -> bytes:
    """The response's body, a streamed one (a downloaded file) read once and kept."""
    if not getattr(response, "streaming", False):
        return response.content
    if not hasattr(response, "_guard_body"):
        response._guard_body = b"".join(response.streaming_content)
    return response._guard_body


def first_error_line(response) -> str:
    """The status and the first telling line of an error response (message or exception)."""
    body = body_of(response)[:20000].decode("utf-8", "replace")
    if response.status_code >= 500:
        exc = getattr(response, "exc_info", None)
        if exc and exc[1] is not None:
            message = (str(exc[1]).splitlines() or [""])[0][:200]
            return f"{type(exc[1]).__name__}: {message}"
    if response.get("Content-Type", "").startswith("application/json"):
        return " ".join(body[:200].split())
    match = re.search(r"<title>(.*?)</title>", body, re.S)
    return " ".join((match.group(1) if match else body[:120]).split())


def json_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_keys(item)


#: Elements that label a figure: a cost or margin label there shows the figure itself.
LABELS = ("th", "dt", "label", "caption")
#: FOCUS column names (the FinOps standard's words for what a customer is billed, not our cost).
FOCUS_WORDS = {"billedcost", "effectivecost", "listcost", "contractedcost"}


class _Text(HTMLParser):
    """The visible text of a page (no <script> or <style>) and the text of its labels."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.labels: list[str] = []
        self._skip = 0
        self._label = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag in LABELS:
            self._label += 1
            self.labels.append("")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag in LABELS and self._label:
            self._label -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)
            if self._label:
                self.labels[-1] += data


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def labels_of(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return [" ".join(label.split()).lower() for label in parser.labels]


def disclosure_findings(response, role) -> list[str]:
    """Cost or margin shown to a role that may not see it (R7; margins: finance and admin)."""
    kind = response.get("Content-Type", "")
    found = []
    if kind.startswith("application/json"):
        try:
            keys = {key.lower() for key in json_keys(json.loads(body_of(response)))}
        except ValueError:
            return []
        if role == "external":
            leaked = sorted(key for key in keys if "cost" in key or "margin" in key)
            if leaked:
                found.append(("cost-field", ",".join(leaked[:6])))
        elif role not in FIN:
            leaked = sorted(key for key in keys if "margin" in key or "profitabil" in key)
            if leaked:
                found.append(("margin-field", ",".join(leaked[:6])))
    elif kind.startswith("text/csv"):
        header = body_of(response).split(b"\n", 1)[0].decode("utf-8", "replace").lower()
        if role == "external" and ("cost" in header or "margin" in header):
            found.append(("cost-field", header[:120]))
        elif role not in FIN and "margin" in header:
            found.append(("margin-field", header[:120]))
    elif kind.startswith("text/html"):
        labels = labels_of(body_of(response).decode("utf-8", "replace"))
        words = {
            word
            for label in labels
            for word in re.findall(r"[\w-]*(?:cost|margin|profitabil)[\w-]*", label)
            if word not in FOCUS_WORDS
        }
        if role == "external" and words:
            found.append(("cost-shown", ",".join(sorted(words)[:6])))
        elif role not in FIN and any("margin" in word or "profitabil" in word for word in words):
            found.append(("margin-shown", ",".join(sorted(words)[:6])))
    return found


def steps_of(route) -> list[str]:
    """The steps a ``<slug:step>`` route accepts, read from its view module's ``STEPS``."""
    module = sys.modules[route.view.__module__]
    return sorted(module.STEPS)


def url_of(route, kwargs) -> str:
    return reverse(route.name, kwargs=kwargs)
