"""Shared fixtures: the demo provider loaded once per test database, users by role, clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from servicebook.core.models import User


@pytest.fixture(scope="session", autouse=True)
def _isolated_files(tmp_path_factory):
    """Tests write files (usage store, rejects, exports) under a temporary folder, never var/."""
    from django.conf import settings

    root = tmp_path_factory.mktemp("servicebook-var")
    settings.VAR_DIR = root
    settings.SERVICEBOOK_USAGE_DIR = root / "usage"
    return root


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request, _isolated_files):
    """Load the demo provider once into the test database; each test rolls back to it.

    Browser tests (transactional, live server) load it themselves.
    """
    if request.config.getoption("-m") == "browser":
        return
    from servicebook import demo

    with django_db_blocker.unblock():
        demo.load_demo()


@pytest.fixture
def users(db) -> dict[str, User]:
    """The demo users by username: admin, manager, finance, change, internal, external."""
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def client_for(db):
    """``client_for(user)`` → a DRF APIClient authenticated as that user."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def web_for(client, db):
    """``web_for(user)`` → Django's test client signed in as that user."""

    def make(user: User):
        client.force_login(user)
        return client

    return make
