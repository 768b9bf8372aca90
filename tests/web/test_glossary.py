"""The glossary (issue 18): plain words for every signed-in user, no cost words for those who may
not see cost."""

from __future__ import annotations

import pytest

from tests.guards.matrix import visible_text

pytestmark = pytest.mark.django_db


def page_text(web_for, user) -> str:
    response = web_for(user).get("/glossary/")
    assert response.status_code == 200
    return visible_text(response.content.decode())


def test_staff_read_every_term_and_the_cost_difference(web_for, users):
    text = page_text(web_for, users["manager"])
    assert "Internal and external customers" in text
    assert "Service level agreement" in text or "service level agreement" in text
    assert "A notional transfer at cost" in text
    assert "Unit cost" in text and "Margin" not in text  # margins: finance and the admin


def test_finance_reads_what_a_margin_is(web_for, users):
    assert "Price less cost" in page_text(web_for, users["finance"])


def test_external_customers_read_no_cost_word(web_for, users):
    text = page_text(web_for, users["external"]).lower()
    assert "contract" in text and "service credit" in text
    assert "cost" not in text and "margin" not in text


def test_internal_customers_see_their_charges_are_at_cost(web_for, users):
    text = page_text(web_for, users["internal"])
    assert "A notional transfer at cost" in text


def test_the_glossary_is_for_signed_in_users(client):
    response = client.get("/glossary/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_every_page_links_to_it(web_for, users):
    assert b'href="/glossary/"' in web_for(users["external"]).get("/").content
