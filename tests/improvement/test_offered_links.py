"""Issue 12: "Register an improvement" was offered to finance and change managers, who were then
refused. A page offers only what the user may do: every link the demand, improvement and service
level pages offer a role answers that role without a refusal or a server error."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from servicebook.improvement import services

ROLES = ["admin", "manager", "finance", "change", "senior", "internal", "external"]
PREFIXES = ("/demand/", "/improvement/", "/service-levels/")
START = ["/demand/", "/improvement/", "/improvement/health/", "/improvement/reviews/"]
START += ["/improvement/dashboard/", "/service-levels/"]
HREF = re.compile(r'href="([^"#]+)"')
#: The crawl reads this many pages per role: enough to reach every kind of page of the apps.
LIMIT = 120


def _links(html: str) -> list[str]:
    return [unescape(h) for h in HREF.findall(html)]


@pytest.mark.parametrize("role", ROLES)
def test_every_offered_link_answers_the_role(users, web_for, role):
    web = web_for(users[role])
    seen: set[str] = set()
    queue = [url for url in START]
    offered_by: dict[str, str] = {}
    kinds: set[str] = set()
    while queue and len(seen) < LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = web.get(url)
        source = offered_by.get(url)
        if source is None:  # a start page: it may refuse the role (the navigation hides it)
            assert response.status_code in (200, 302, 403), (url, response.status_code)
            if response.status_code != 200:
                continue
        else:
            assert response.status_code < 500, (url, response.status_code, source)
            assert response.status_code != 403, f"{source} offers {url} to {role}: refused"
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in _links(response.content.decode()):
            target = urljoin(url, href)
            path = urlsplit(target).path
            if not path.startswith(PREFIXES) or target in seen or path.endswith("/pdf/"):
                continue
            # one page of each kind is enough: /improvement/12/ stands for every item
            kind = re.sub(r"\d+", "N", path) + ("?" if urlsplit(target).query else "")
            if kind in kinds and target not in START:
                continue
            kinds.add(kind)
            offered_by.setdefault(target, url)
            queue.append(target)
    assert len(seen) > 3


@pytest.mark.parametrize("role", ["finance", "change", "senior"])
def test_register_an_improvement_is_not_offered_to_roles_that_cannot(
    users, web_for, customers, role
):
    web = web_for(users[role])
    assert not services.may_edit(users[role])
    for url in (
        reverse("parties:detail", args=[customers["marketing"].pk]),
        reverse("improvement:list"),
        reverse("improvement:health-detail", args=[customers["marketing"].pk]),
    ):
        page = web.get(url)
        assert page.status_code == 200
        assert "Register an improvement" not in page.content.decode(), url
    assert web.get(reverse("improvement:create")).status_code == 403


def test_register_an_improvement_is_offered_to_a_service_manager(users, web_for, customers):
    web = web_for(users["manager"])
    assert services.may_edit(users["manager"])
    page = web.get(reverse("parties:detail", args=[customers["marketing"].pk]))
    assert "Register an improvement" in page.content.decode()
    assert web.get(reverse("improvement:create")).status_code == 200
