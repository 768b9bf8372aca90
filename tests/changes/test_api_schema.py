"""The changes API's responses match their published schema (nullable names, issue 12)."""

from __future__ import annotations

import pytest

from servicebook.changes.models import Approval, CustomerImpact
from tests.changes.api_schema import check_conforms


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """WSGI calls close the connection at each request's end; keep the test's transaction."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "external"])
@pytest.mark.parametrize("path", ["/api/change-approvals/", "/api/change-impacts/"])
def test_lists_match_their_schema(users, role, path):
    # the demo holds approvals without a contact and impacts whose price nobody accepted
    assert Approval.objects.filter(contact__isnull=True).exists()
    assert CustomerImpact.objects.filter(price_accepted_by__isnull=True).exists()
    check_conforms(users[role], "GET", path)
