"""Who may read the finance reports: the margin reports for finance and the provider admin only.

The same one answer as the ledger's (``policy.user_may_see_margin``, see ``ledger.access``), used
by the reports' API, pages and CSVs, so a role that may not see margins is refused everywhere the
same way (403 with this reason) and is never offered them.
"""

from __future__ import annotations

from servicebook.core.errors import PermissionDenied
from servicebook.policy import user_may_see_margin

#: The finance reports that show margins (revenue less cost): finance and the admin only.
MARGIN_REPORTS = frozenset({"external-margin", "revenue-capacity"})

MARGIN_REASON = "Margins are for finance and the provider admin only."


def may_read_report(user, name: str) -> bool:
    """A finance report: the margin reports need the margin rule, the others are for staff."""
    from servicebook.core.roles import is_provider_staff

    if name in MARGIN_REPORTS:
        return user_may_see_margin(user)
    return is_provider_staff(user)


def require_margin_reader(user) -> None:
    """Refuse (403) a user who may not see margins."""
    if not user_may_see_margin(user):
        raise PermissionDenied(MARGIN_REASON)
