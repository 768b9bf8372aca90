"""Who may read the ledger: finance and the provider admin only.

One answer (``policy.user_may_see_margin``), used by the ledger models' ``visible_to``, the API
viewsets, the pages and the navigation, so a role that may not read it is refused everywhere the
same way (403 with this reason) and is never offered a link to it. The margin reports ask the
same rule (``billing.access``).
"""

from __future__ import annotations

from servicebook.core.errors import PermissionDenied
from servicebook.policy import user_may_see_margin

LEDGER_REASON = "The ledger is for finance and the provider admin only."


def may_read_ledger(user) -> bool:
    """The ledger (accounts, journal entries, balances, verify, journal export)."""
    return user_may_see_margin(user)


def require_ledger_reader(user) -> None:
    """Refuse (403) a user who may not read the ledger."""
    if not may_read_ledger(user):
        raise PermissionDenied(LEDGER_REASON)
