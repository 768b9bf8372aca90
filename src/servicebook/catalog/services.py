"""Every write to the service catalog."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from servicebook.catalog.models import TIERED_MODELS, Offering, PriceTier, Service
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.core.services import apply_changes, require_role, save_validated
from servicebook.parties.models import Provider

CATALOG_EDITORS = (Role.PROVIDER_ADMIN, Role.SERVICE_MANAGER)


@transaction.atomic
def create_service(*, actor: User | None, provider: Provider, **fields) -> Service:
    require_role(actor, *CATALOG_EDITORS, action="Adding a service")
    service = Service(provider=provider, **fields)
    save_validated(service)
    return service


@transaction.atomic
def update_service(*, actor: User | None, service: Service, **changes) -> Service:
    require_role(actor, *CATALOG_EDITORS, action="Changing a service")
    changes.pop("provider", None)
    if apply_changes(service, changes):
        save_validated(service)
    return service


@transaction.atomic
def create_offering(
    *,
    actor: User | None,
    service: Service,
    tiers: list[tuple[Decimal, Decimal]] | None = None,
    **fields,
) -> Offering:
    require_role(actor, *CATALOG_EDITORS, Role.FINANCE, action="Adding an offering")
    offering = Offering(service=service, **fields)
    save_validated(offering)
    _set_tiers(offering, tiers or [])
    return offering


@transaction.atomic
def update_offering(
    *,
    actor: User | None,
    offering: Offering,
    tiers: list[tuple[Decimal, Decimal]] | None = None,
    **changes,
) -> Offering:
    require_role(actor, *CATALOG_EDITORS, Role.FINANCE, action="Changing an offering")
    changes.pop("service", None)
    if apply_changes(offering, changes):
        save_validated(offering)
    if tiers is not None or "charge_model" in changes:
        existing = [(t.lower_bound, t.unit_price) for t in offering.tiers.all()]
        _set_tiers(offering, existing if tiers is None else tiers)
    return offering


def _set_tiers(offering: Offering, tiers: list[tuple[Decimal, Decimal]]) -> None:
    if offering.charge_model in TIERED_MODELS:
        if not tiers:
            raise ValidationError({"tiers": "graduated and volume offerings need tiers"})
        bounds = [Decimal(lower) for lower, _ in tiers]
        if bounds[0] != 0:
            raise ValidationError({"tiers": "the first tier must start at 0"})
        if bounds != sorted(set(bounds)):
            raise ValidationError({"tiers": "tier lower bounds must be strictly increasing"})
    elif tiers:
        raise ValidationError({"tiers": "only graduated and volume offerings have tiers"})
    offering.tiers.all().delete()
    for lower, price in tiers:
        tier = PriceTier(offering=offering, lower_bound=lower, unit_price=price)
        save_validated(tier)
