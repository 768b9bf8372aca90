"""Guard: no API list asks more queries for a page of 50 rows than for a page of 2 (a query per
row shows up here, whatever the data: the bench in benchmarks/bench_pages.py measures sizes).
One more query is allowed: a prefetch that only runs when some row on the page has the relation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from rest_framework.pagination import PageNumberPagination

from servicebook import ports

pytestmark = pytest.mark.django_db

#: Lists whose prefetches are nested (``participants__contact``, actions with their comments and
#: authors): each nested level runs only when some row on the page has the relation, so a page of
#: 2 rows without them asks up to this many fewer queries than a full page. A constant, not a
#: query per row: the bench in benchmarks/bench_pages.py shows the count flat at 1,000 rows.
NESTED_PREFETCHES = {"/api/improvements/": 4}


def _list_routes() -> list[str]:
    urls = []
    for routes in ports.api_routes:
        for _prefix, viewset, basename in routes:
            if not hasattr(viewset, "list"):
                continue
            try:
                urls.append(reverse(f"{basename}-list"))
            except NoReverseMatch:
                continue
    return sorted(set(urls))


def _count(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = response.json()
    rows = len(body["results"]) if isinstance(body, dict) and "results" in body else None
    return len(queries), rows


def test_api_list_query_counts_do_not_grow_with_the_page(users, client_for, monkeypatch):
    client = client_for(users["admin"])
    grows = []
    for url in _list_routes():
        monkeypatch.setattr(PageNumberPagination, "page_size", 2)
        two, _ = _count(client, url)
        monkeypatch.setattr(PageNumberPagination, "page_size", 50)
        many, rows = _count(client, url)
        if rows is not None and rows > 2 and many > two + 1 + NESTED_PREFETCHES.get(url, 0):
            grows.append(f"{url}: {two} queries for 2 rows, {many} for {rows}")
    assert not grows, "\n".join(grows)
