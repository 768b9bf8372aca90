"""The roles of Servicebook, kept as Django groups, and the questions views ask about a user."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PROVIDER_ADMIN = "provider_admin"
    SERVICE_MANAGER = "service_manager"
    FINANCE = "finance"
    CHANGE_MANAGER = "change_manager"
    SENIOR_MANAGER = "senior_manager"
    INTERNAL_CUSTOMER = "internal_customer"
    EXTERNAL_CUSTOMER = "external_customer"


PROVIDER_ROLES = frozenset(
    {
        Role.PROVIDER_ADMIN,
        Role.SERVICE_MANAGER,
        Role.FINANCE,
        Role.CHANGE_MANAGER,
        Role.SENIOR_MANAGER,
    }
)
CUSTOMER_ROLES = frozenset({Role.INTERNAL_CUSTOMER, Role.EXTERNAL_CUSTOMER})

#: What pages call each role (never its raw name).
ROLE_LABELS: dict[str, str] = {
    Role.PROVIDER_ADMIN: "Provider admin",
    Role.SERVICE_MANAGER: "Service manager",
    Role.FINANCE: "Finance",
    Role.CHANGE_MANAGER: "Change manager",
    Role.SENIOR_MANAGER: "Senior manager",
    Role.INTERNAL_CUSTOMER: "Internal customer",
    Role.EXTERNAL_CUSTOMER: "External customer",
}

ROLE_DESCRIPTIONS = {
    Role.PROVIDER_ADMIN: "Runs the provider: users, policy, everything.",
    Role.SERVICE_MANAGER: "Manages customers, the catalog and agreements.",
    Role.FINANCE: "Costs, pricing, period close, invoices and the ledger.",
    Role.CHANGE_MANAGER: "Requests for change and the deployment schedule.",
    Role.SENIOR_MANAGER: "Senior management of the organization: reads demands and records the "
    "justification an internal request needs before approval (a negative NPV, or a costlier "
    "option chosen over a cheaper one meeting every requirement). Not an IT role: the provider "
    "admin cannot do this.",
    Role.INTERNAL_CUSTOMER: "A user of an internal customer (a department of the organization).",
    Role.EXTERNAL_CUSTOMER: "A user of an external customer (a separate legal entity).",
}


def roles_of(user) -> frozenset[str]:
    """The role names of a user (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_servicebook_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._servicebook_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return bool(roles_of(user) & set(roles))


def holds_role(user, role: str) -> bool:
    """Whether the user really holds ``role`` (no superuser shortcut): for decisions that belong
    to one office, such as a senior-management justification, that even the IT admin cannot take.
    """
    return role in roles_of(user)


def is_provider_staff(user) -> bool:
    """Provider staff see every customer; customer users see only their own."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return bool(roles_of(user) & PROVIDER_ROLES) and user.customer_id is None
