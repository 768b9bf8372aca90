"""Guard 2: every page for every role.

Signed in as each demo role, start at the home page and follow every link (``<a href>``) each page
offers within the site: same origin only; sign-out, static files, Django's admin and the API's
own pages are left out; downloads (CSV, PDF, iCalendar) are fetched but not parsed. Each route
is visited with at most ``PER_ROUTE`` different URLs (the first object ids and queries found)
and each role with at most ``MAX_PAGES`` pages.

A page fails the guard when it answers 5xx, when an offered link answers 403 (offer only what
the user may do) or 404 (a broken link), when a page shown to a customer user contains the name
of another customer, or when it shows a cost (external users) or a margin (all but finance and
the admin) to a role that may not see it, or when two of its elements share an id (a label then
names the wrong field). Each route is also asked once with hostile query
parameters (``HOSTILE_QUERY``) and must not answer 5xx.

Known findings are in ``KNOWN_FAILURES`` as (role, route, kind); a listed finding that no longer
occurs fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import os
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

from servicebook.parties.models import Customer
from tests.guards.matrix import (
    ROLES,
    body_of,
    client_for,
    disclosure_findings,
    first_error_line,
    visible_text,
)

MAX_PAGES = 400
PER_ROUTE = 10
#: PDFs take a second each to render: a couple per route shows the route works.
PDF_PER_ROUTE = 2
SKIP_PREFIXES = ("/logout/", "/static/", "/admin/", "/api/", "/media/")
PARSED = ("text/html",)
TEXT = ("text/html", "text/csv", "text/plain", "text/calendar", "application/json")

#: Query parameters a user may type (or a link may carry) that a page must survive: ids that are
#: not numbers or beyond 64 bits, periods beyond the calendar, pages that are not numbers.
HOSTILE_QUERY = {
    "customer": "99999999999999999999",
    "agreement": "abc",
    "service": "-1",
    "period": "9999-12",
    "page": "abc",
    "status": "\x00",
    "kind": "x" * 300,
}

KNOWN_FAILURES: set[tuple[str, str, str]] = set()

#: Requirement codes ("(R12)") and stored values ("central_allocation", "window_set") are for
#: engineers: a page says them in words (issue 18). What a page sets as code (<code>, <pre>: a
#: command, a CSV column) and what a user typed into a field are left alone.
CODES = re.compile(r"\(R\d{1,2}(?:, ?R\d{1,2})*\)|\bR\d{1,2}\b|\b[a-z]+(?:_[a-z0-9]+)+\b")
AS_CODE = re.compile(r"<(code|pre|kbd|samp|textarea)\b.*?</\1>", re.S | re.I)


def codes_shown(html: str) -> list[str]:
    return sorted(set(CODES.findall(visible_text(AS_CODE.sub(" ", html)))))


class _Links(HTMLParser):
    """The page's links, and its element ids (a label names its field by id: two forms on one
    page with the same field ids leave the second form's fields without a name)."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(found["id"])
        if tag == "a":
            href = found.get("href")
            if href:
                self.links.append(href)


def duplicate_ids(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return sorted({i for i in parser.ids if parser.ids.count(i) > 1})


def links_of(html: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.links:
        if href.startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        url = urldefrag(urljoin("http://testserver" + base, href))[0]
        parts = urlsplit(url)
        if parts.netloc != "testserver":
            continue  # another site
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path.startswith(SKIP_PREFIXES):
            continue
        found.append(path)
    return found


def route_of(path: str) -> str:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return "<unresolved>"
    return match.view_name


def crawl(user, role):
    """Visit what the user is offered; yield (route, kind, path, referrer, detail) findings."""
    client = client_for(user)
    others = []
    if user.customer_id is not None:
        others = list(Customer.objects.exclude(pk=user.customer_id).values_list("name", flat=True))
    queue = deque([("/", "(start)")])
    seen: set[str] = set()
    per_route: dict[str, int] = {}
    visited = 0
    while queue and visited < MAX_PAGES:
        path, referrer = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        route = route_of(path)
        cap = PDF_PER_ROUTE if route.endswith("pdf") else PER_ROUTE
        if per_route.get(route, 0) >= cap:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        visited += 1
        if per_route[route] == 1:  # once a route: what a user may type into its query string
            hostile = client.get(urlsplit(path).path, HOSTILE_QUERY)
            if hostile.status_code >= 500:
                yield route, "5xx-on-hostile-query", path, first_error_line(hostile)
        response = client.get(path)
        status = response.status_code
        detail = f"{status} {first_error_line(response)} (linked from {referrer})"
        if status >= 500:
            yield route, "5xx", path, detail
            continue
        if status == 403:
            yield route, "offered-but-403", path, detail
            continue
        if status == 404:
            yield route, "offered-but-404", path, detail
            continue
        if status in (301, 302):
            queue.append((response["Location"], path))
            continue
        kind = response.get("Content-Type", "")
        if not kind.startswith(TEXT):
            continue  # a PDF or another download: fetched, not read
        body = body_of(response).decode("utf-8", "replace")
        text = visible_text(body) if kind.startswith("text/html") else body
        for name in others:
            if re.search(rf"\b{re.escape(name)}\b", text):
                yield route, "other-customer-name", path, f"{name!r} shown ({detail})"
        for kind_shown, what in disclosure_findings(response, role):
            yield route, kind_shown, path, f"{what} ({detail})"
        if kind.startswith(PARSED):
            for code in codes_shown(body):
                yield route, "code-shown", path, f"{code!r} shown ({detail})"
            for twice in duplicate_ids(body):
                yield route, "duplicate-id", path, f"id {twice!r} on two elements ({detail})"
            for link in links_of(body, path):
                if link not in seen:
                    queue.append((link, path))


@pytest.mark.parametrize("role", [role for role in ROLES if role is not None])
def test_every_page_for_every_role(role, users):
    findings = list(crawl(users[role], role))
    if os.environ.get("GUARD_REPORT"):
        with open(os.environ["GUARD_REPORT"], "a") as out:
            for route, kind, path, detail in findings:
                out.write(f"{role}\t{route}\t{kind}\tGET {path}\t{detail}\n")
    keys = {(role, route, kind) for route, kind, _, _ in findings}
    new = [
        f"GET {path} as {role}: {kind} {detail}"
        for route, kind, path, detail in findings
        if (role, route, kind) not in KNOWN_FAILURES
    ]
    gone = sorted(key for key in KNOWN_FAILURES if key[0] == role and key not in keys)
    assert not new, "pages that fail:\n" + "\n".join(dict.fromkeys(new))
    assert not gone, f"fixed, remove from KNOWN_FAILURES: {gone}"
