"""The demand API's responses match their published schema (issue 12)."""

from __future__ import annotations

import pytest

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
@pytest.mark.parametrize("role", ["admin", "manager", "internal", "external"])
@pytest.mark.parametrize(
    "path", ["/api/demands/", "/api/capacity-pools/", "/api/capacity-pools/competition/"]
)
def test_reads_match_their_schema(users, role, path):
    check_conforms(users[role], "GET", path)


@pytest.mark.django_db
def test_a_demand_and_its_history_match_their_schema(users):
    from servicebook.demand.models import DemandRequest

    for demand in DemandRequest.objects.all():
        check_conforms(
            users["admin"], "GET", "/api/demands/{id}/", path_parameters={"id": demand.pk}
        )
