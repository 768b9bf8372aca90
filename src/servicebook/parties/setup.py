"""Setting up a real provider on an empty database: the provider and its first administrator
(``servicebook init``; issue 18). The demo is ``servicebook demo``; this is the day-one start of
an organization on its own data."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from servicebook.core.countries import country_error
from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.money import MINOR_UNITS
from servicebook.core.roles import Role
from servicebook.core.services import save_validated
from servicebook.parties.models import Provider, Sector


def provider_exists() -> bool:
    return Provider.objects.exists()


def _check(field: str, check) -> None:
    try:
        check()
    except ValidationError as error:
        raise DomainError(f"{field}: {' '.join(error.messages)}", field=field) from None


@transaction.atomic
def set_up_provider(
    *,
    name: str,
    sector: str,
    currency: str,
    country: str,
    admin_username: str,
    admin_email: str,
    admin_password: str,
) -> tuple[Provider, User]:
    """Create the provider and its first administrator (the provider admin role, and Django's
    admin); refuses, writing nothing, when a provider exists or an input is not valid."""
    if provider_exists():
        raise DomainError(
            f"a provider is set up already ({Provider.objects.first()}): nothing changed",
            code="provider_exists",
        )
    if sector not in Sector.values:
        raise DomainError(f"sector: one of {', '.join(Sector.values)}", field="sector")
    if currency not in MINOR_UNITS:
        raise DomainError(
            f"currency: {currency!r} is not an ISO 4217 currency code", field="currency"
        )
    if (problem := country_error(country)) is not None:
        raise DomainError(f"country: {problem}", field="country")
    username = (admin_username or "").strip()
    if not username:
        raise DomainError("admin_user: the administrator needs a user name", field="admin_user")
    if User.objects.filter(username=username).exists():
        raise DomainError(f"admin_user: the user {username!r} exists already", field="admin_user")
    _check("admin_email", lambda: validate_email(admin_email))
    candidate = User(username=username, email=admin_email)
    _check("admin_password", lambda: validate_password(admin_password, candidate))
    provider = Provider(
        name=(name or "").strip(), sector=sector, base_currency=currency, country=country
    )
    save_validated(provider)
    admin = User.objects.create_user(
        username=username,
        email=admin_email,
        password=admin_password,
        is_staff=True,
        is_superuser=True,
    )
    group, _ = Group.objects.get_or_create(name=Role.PROVIDER_ADMIN.value)
    admin.groups.add(group)
    return provider, admin
