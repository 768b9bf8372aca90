"""The harness around transactional tests (tests/conftest.py, tests/at_once.py): the demo is back
for the test after one, whatever the order of its fixtures, and a thread left waiting fails its
test instead of holding its locks into the next one."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from servicebook.core.models import User
from servicebook.finance.ledger.models import Account
from tests.at_once import at_once

#: The shape that lost the demo: this marker sets the database up before a test's own fixtures,
#: so a reload done by one of them ran before pytest-django emptied the database.
pytestmark = pytest.mark.django_db


def test_a_transactional_test_under_a_module_marker(transactional_db):
    """pytest-django empties the database at its end (the demo is loaded back after that)."""
    assert User.objects.filter(username="finance").exists()


def test_the_transactional_test_after_it_finds_the_demo(transactional_db):
    """Transactional too: pytest-django runs transactional tests after the others, in order."""
    assert User.objects.filter(username="finance").exists()
    assert Account.objects.exists()


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="SQLite's shared in-memory test database cannot run two writers in threads",
)
def test_a_thread_left_waiting_on_a_lock_fails_the_test_and_is_ended():
    """This test's transaction locks a demo row; a thread asking for the same row waits for it
    until ``at_once`` gives up, reports it and ends its connection."""
    User.objects.select_for_update().get(username="finance")

    def lock_the_same_row():
        with transaction.atomic():
            return User.objects.select_for_update().get(username="finance")

    with pytest.raises(AssertionError, match=r"1 call\(s\) still running after 1 s"):
        at_once(lock_the_same_row, timeout=1)
    assert connection.vendor == "postgresql"
