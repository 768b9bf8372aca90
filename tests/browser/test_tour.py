"""Every page the navigation offers, opened by a staff member and by each kind of customer user:
the page check (pagecheck.py) holds each to the layout and accessibility rules at 1400 and
390 px, and the named pages of issue 18 (improvement filters, the costs page's inputs, the finance
reports' tables, the customer page's difficulty button) among them."""

from __future__ import annotations

import pytest

from servicebook.parties.models import Customer

EXTRA = {
    "admin": [
        "/finance/costs/",
        "/finance/reports/?period=2026-10",
        "/demand/capacity/",
        "/customers/provider-settings/",
        "/agreements/calendars/",
        "/import/",
        "/finance/ledger/adjust/",
        "/glossary/",
    ],
    "external": ["/glossary/", "/my-work/"],
    "internal": ["/glossary/", "/my-work/"],
}


def menu_links(page) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "nav a.nav-link[href^='/'], nav a.dropdown-item[href^='/']",
        "links => links.map(a => a.getAttribute('href'))",
    )
    return [h for h in dict.fromkeys(hrefs) if not h.startswith(("/admin/", "/api/"))]


@pytest.mark.parametrize("username", ["admin", "external", "internal"])
def test_every_page_of_the_menu_opens(page, login, username):
    login(username)
    links = menu_links(page)
    assert links, "the navigation offers no page"
    if username == "admin":
        links.append(f"/customers/{Customer.objects.get(code='skybridge').pk}/")
    for href in [*links, *EXTRA[username]]:
        response = page.goto(href)
        assert response is not None and response.status == 200, f"{href}: {response.status}"
