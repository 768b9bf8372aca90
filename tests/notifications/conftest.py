"""Fixtures borrowed from other apps' tests."""

from tests.changes.conftest import hosting, make_change  # noqa: F401 - fixtures used here
from tests.levels.conftest import contract, sla, tickets  # noqa: F401 - fixtures used here
